/* The book's nomogram calculator: plain JavaScript, no framework, no network.
 *
 * The page embeds the fitted OS model as a JSON document (<script type="application/json"
 * id="dmnpc-model">, written by dmnpc.paper.calculator.model_document at build time); this file
 * builds the form, checks the inputs, computes the prediction and highlights it on a nomogram
 * drawn from the same document. It runs on every page of the book and does nothing where there
 * is no calculator. Scripts and tests call window.dmnpcCalculator.predict({...}): the very
 * function whose result the page displays.
 *
 * Prediction (as dmnpc.paper.calculator.Calculator.predict and survival::survfit.coxph):
 * points per term from the term's level; lp = sum coef_j (x_j - mean_j); at time t the last event
 * time <= t: H0, varhaz, xbar; se = exp(lp) sqrt(varhaz + d' V d), d = H0 (x - mean) - xbar;
 * S = exp(-H0 exp(lp)), 95% CI S exp(-/+ z se), upper limit capped at 1.
 */
(function () {
  "use strict";

  var INPUTS = ["age", "ebv_dna", "met_lesions", "chemo_cycles", "immuno_cycles"];
  var NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
  var GROUPED = /^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$/;     // 120,000 as the hints print it
  var SVGNS = "http://www.w3.org/2000/svg";

  // ------------------------------------------------------------------ numbers as Python prints them
  function group(intText) {
    return intText.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  }

  /* Python's f"{v:,.0f}" for whole numbers and f"{v:,g}" otherwise (dmnpc.paper.calculator._fmt). */
  function fmt(v) {
    if (Number.isInteger(v) && Math.abs(v) < 1e21) {
      return (v < 0 ? "-" : "") + group(String(Math.abs(v)));
    }
    var e = v.toExponential(5);                       // 6 significant digits, as %g
    var m = e.split("e");
    var exp = parseInt(m[1], 10);
    if (exp < -4 || exp >= 6) {
      var mant = m[0].replace(/\.?0+$/, "");
      return mant + "e" + (exp < 0 ? "-" : "+") + (Math.abs(exp) < 10 ? "0" : "") + Math.abs(exp);
    }
    var fixed = Math.abs(v).toFixed(Math.max(0, 5 - exp));
    if (fixed.indexOf(".") >= 0) fixed = fixed.replace(/\.?0+$/, "");
    var parts = fixed.split(".");
    return (v < 0 ? "-" : "") + group(parts[0]) + (parts.length > 1 ? "." + parts[1] : "");
  }

  function pct(p) { return (100 * p).toFixed(1) + "%"; }
  function pts(p) { return p.toFixed(1); }

  // ------------------------------------------------------------------ the model
  function inputSpec(model, name) {
    for (var i = 0; i < model.inputs.length; i++) if (model.inputs[i].name === name) return model.inputs[i];
    return null;
  }

  function lowerFirst(s) { return s.charAt(0).toLowerCase() + s.slice(1); }

  /* A finite number from a number or a text in plain decimal notation, else null. */
  function toNumber(v) {
    if (typeof v === "number") return isFinite(v) ? v : null;
    if (typeof v !== "string") return null;
    var t = v.trim();
    if (GROUPED.test(t)) t = t.replace(/,/g, "");
    if (!NUMBER.test(t)) return null;
    var x = Number(t);
    return isFinite(x) ? x : null;
  }

  /* Check one patient: {values, warnings, problems} (problems: field -> message), as check_patient. */
  function check(model, patient) {
    var problems = {}, values = {}, warnings = [];
    patient = patient || {};
    var unknown = Object.keys(patient).filter(function (k) { return INPUTS.indexOf(k) < 0; });
    if (unknown.length) problems.patient = "unknown field(s) " + unknown.join(", ") + ": expected " + INPUTS.join(", ");
    INPUTS.forEach(function (name) {
      var spec = inputSpec(model, name);
      var v = patient[name];
      if (name === "met_lesions") {
        if (v === undefined || v === null || v === "") problems[name] = "Choose single or multiple metastatic lesions.";
        else if (v !== "single" && v !== "multiple") {
          problems[name] = "Metastatic lesions must be 'single' or 'multiple', got '" + String(v).slice(0, 40) + "'.";
        } else values[name] = v;
        return;
      }
      var unit = spec.unit;
      var what = name === "ebv_dna" ? "EBV DNA" : lowerFirst(spec.label);
      if (v === undefined || v === null || (typeof v === "string" && v.trim() === "")) {
        problems[name] = "Enter the " + what + (unit ? " (" + unit + ")." : ".");
        return;
      }
      var x = toNumber(v);
      var b = spec.contract;
      if (x === null) problems[name] = "The " + what + " must be a number" + (unit ? " of " + unit + "." : ".");
      else if (x < 0) problems[name] = "The " + what + " cannot be negative.";
      else if (b.integer && !Number.isInteger(x)) problems[name] = "The " + what + " must be a whole number of cycles.";
      else if (b.min !== null && x < b.min) {
        problems[name] = "The " + what + " must be at least " + fmt(b.min) +
          " (the data contract's range: every patient received treatment).";
      } else if (b.max !== null && x > b.max) {
        problems[name] = "The " + what + " must be at most " + fmt(b.max) + " " + unit + " (the data contract's range).";
      } else {
        values[name] = x;
        var obs = spec.observed;
        if (!(obs.min <= x && x <= obs.max)) {
          var u = unit ? " " + unit : "";
          var vu = unit === "cycles" ? "" : u;       // "1 is outside ... (2 to 32 cycles)", not "1 cycles"
          warnings.push(spec.label + ": " + fmt(x) + vu + " is outside the range of the development data (" +
            fmt(obs.min) + " to " + fmt(obs.max) + u + "); the prediction is an extrapolation.");
        }
      }
    });
    return {values: values, warnings: warnings, problems: problems};
  }

  /* The 0/1 design row of checked values, from each term's rule. */
  function design(model, values) {
    return model.terms.map(function (t) {
      var r = t.rule, v = values[r.input];
      if (r.op === "==") return v === r.value ? 1 : 0;
      if (r.op === ">=") return v >= r.value ? 1 : 0;
      if (r.op === "<") return v < r.value ? 1 : 0;
      throw new Error("unknown rule " + r.op);
    });
  }

  function stepIndex(times, t, tol) {
    var k = -1;
    for (var i = 0; i < times.length; i++) if (times[i] <= t + tol) k = i;
    return k;
  }

  function compute(model, values, warnings) {
    var x = design(model, values);
    var sf = model.survfit;
    var out = {points: {}, total_points: 0};
    var total = 0;
    model.terms.forEach(function (t, j) {
      var p = t.levels[x[j]].points;
      out.points[t.name] = p;
      total += p;
    });
    out.total_points = total;
    var p = x.length, xc = [], lp = 0;
    for (var j = 0; j < p; j++) { xc.push(x[j] - sf.means[j]); lp += sf.coef[j] * xc[j]; }
    var r = Math.exp(lp);
    model.times.forEach(function (tm) {
      var k = stepIndex(sf.time, tm.time, sf.time_tolerance);
      var H0 = 0, v0 = 0, xb = [];
      for (j = 0; j < p; j++) xb.push(0);
      if (k >= 0) { H0 = sf.cumhaz[k]; v0 = sf.varhaz[k]; xb = sf.xbar[k]; }
      var d = [];
      for (j = 0; j < p; j++) d.push(H0 * xc[j] - xb[j]);
      var q = 0;
      for (var a = 0; a < p; a++) {
        var row = 0;
        for (var b = 0; b < p; b++) row += sf.vcov[a][b] * d[b];
        q += d[a] * row;
      }
      var se = r * Math.sqrt(Math.max(v0 + q, 0));
      var H = H0 * r;
      var key = "surv_" + fmtTime(tm.time);
      out[key] = Math.exp(-H);
      out[key + "_lower"] = Math.exp(-H - sf.z * se);
      out[key + "_upper"] = Math.min(1, Math.exp(-H + sf.z * se));
    });
    out.risk_group = total > model.risk.threshold ? "high" : "low";
    out.warnings = warnings.slice();
    return out;
  }

  function fmtTime(t) { return Number.isInteger(t) ? String(t) : String(t); }

  /* The public prediction: throws an Error with .problems for impossible inputs. */
  function makePredict(model) {
    return function predict(patient) {
      var c = check(model, patient);
      var names = Object.keys(c.problems);
      if (names.length) {
        var err = new Error(names.map(function (k) { return k + ": " + c.problems[k]; }).join(" "));
        err.problems = c.problems;
        throw err;
      }
      return compute(model, c.values, c.warnings);
    };
  }

  // ------------------------------------------------------------------ DOM helpers
  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    setAttrs(e, attrs);
    (children || []).forEach(function (c) { e.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
    return e;
  }

  function svg(tag, attrs, text) {
    var e = document.createElementNS(SVGNS, tag);
    setAttrs(e, attrs);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function setAttrs(e, attrs) {
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") e.textContent = attrs[k];
      else if (k === "className") e.className = attrs[k];
      else e.setAttribute(k, attrs[k]);
    });
  }

  // ------------------------------------------------------------------ the nomogram drawing
  var W = 360, X0 = 12, X1 = 348, ROW = 50;

  function drawNomogram(model) {
    var maxPts = model.points.max_points;
    var tpMax = model.terms.reduce(function (s, t) {
      return s + Math.max.apply(null, t.levels.map(function (l) { return l.points; }));
    }, 0);
    var xPts = function (v) { return X0 + (X1 - X0) * v / maxPts; };
    var xTot = function (v) { return X0 + (X1 - X0) * v / tpMax; };
    var rows = 1 + model.terms.length + 1 + model.times.length;
    var H = rows * ROW + 8;
    var root = svg("svg", {viewBox: "0 0 " + W + " " + H, role: "img", "aria-labelledby": "dmnpc-nomo-title dmnpc-nomo-desc",
                           "class": "dmnpc-nomogram", focusable: "false"});
    root.appendChild(svg("title", {id: "dmnpc-nomo-title"}, "Nomogram of the model with this patient's points"));
    var desc = svg("desc", {id: "dmnpc-nomo-desc"}, "No patient entered yet.");
    root.appendChild(desc);
    var marks = {terms: [], labels: [], rowPts: [], total: null, surv: [], guide: null};

    function axis(y, title, ticks, labels, xfun, opts) {
      opts = opts || {};
      root.appendChild(svg("text", {x: X0, y: y + 14, "class": "dmnpc-nomo-title"}, title));
      var lo = opts.line ? opts.line[0] : X0, hi = opts.line ? opts.line[1] : X1;
      root.appendChild(svg("line", {x1: lo, x2: hi, y1: y + 26, y2: y + 26, "class": "dmnpc-nomo-axis"}));
      var texts = new Array(ticks.length);
      var lastRight = -Infinity;
      var order = ticks.map(function (v, i) { return i; });
      order.sort(function (a, b) { return xfun(ticks[a]) - xfun(ticks[b]); });
      order.forEach(function (i) {
        var x = xfun(ticks[i]);
        root.appendChild(svg("line", {x1: x, x2: x, y1: y + 22, y2: y + 30, "class": "dmnpc-nomo-axis"}));
        if (labels[i] === null) return;
        var w = 7.6 * labels[i].length;
        var cx = Math.min(Math.max(x, X0 + w / 2), X1 - w / 2 + 4);
        if (opts.thin && cx - w / 2 < lastRight + 5) return;      // would overlap its left neighbour
        lastRight = cx + w / 2;
        var t = svg("text", {x: cx, y: y + 44, "text-anchor": "middle", "class": "dmnpc-nomo-tick"}, labels[i]);
        root.appendChild(t);
        texts[i] = t;
      });
      return texts;
    }

    var y = 0;
    var grid = [];
    for (var v = 0; v <= maxPts + 1e-9; v += maxPts / 10) grid.push(v);
    axis(y, "Points", grid, grid.map(function (g, i) { return i % 2 === 0 ? fmt(Math.round(g)) : null; }), xPts);
    model.terms.forEach(function (t) {
      y += ROW;
      var vals = t.levels.map(function (l) { return l.points; });
      // the paper's axis title, or the input's shorter name when it would run into the points shown at the right
      var title = t.label.length <= 24 ? t.label : inputSpec(model, t.rule.input).label;
      var texts = axis(y, title, vals, t.levels.map(function (l) { return l.label; }), xPts);
      marks.labels.push(texts);
      var m = svg("circle", {cx: X0, cy: y + 26, r: 6.5, "class": "dmnpc-nomo-mark", visibility: "hidden"});
      root.appendChild(m);
      marks.terms.push({mark: m, x: vals.map(xPts)});
      var rp = svg("text", {x: X1, y: y + 14, "text-anchor": "end", "class": "dmnpc-nomo-value"}, "");
      root.appendChild(rp);
      marks.rowPts.push(rp);
    });
    y += ROW;
    var tps = model.points.total_points_axis.filter(function (v) { return v >= -1e-9 && v <= tpMax * (1 + 1e-9); });
    axis(y, "Total points", tps, tps.map(function (v) { return fmt(v); }), xTot, {thin: true});
    var totalY = y + 26;
    marks.total = svg("circle", {cx: X0, cy: totalY, r: 6.5, "class": "dmnpc-nomo-mark", visibility: "hidden"});
    root.appendChild(marks.total);
    marks.totalText = svg("text", {x: X1, y: y + 14, "text-anchor": "end", "class": "dmnpc-nomo-value"}, "");
    root.appendChild(marks.totalText);
    model.times.forEach(function (tm) {
      y += ROW;
      var tk = tm.ticks.filter(function (k) { return k.total_points >= -1e-9 && k.total_points <= tpMax * (1 + 1e-9); });
      var xs = tk.map(function (k) { return k.total_points; });
      var line = xs.length ? [xTot(Math.min.apply(null, xs)), xTot(Math.max.apply(null, xs))] : [X0, X0];
      axis(y, tm.label, xs, tk.map(function (k) { return fmt(Math.round(k.survival * 100) / 100); }), xTot,
           {thin: true, line: line});
      var m = svg("circle", {cx: X0, cy: y + 26, r: 6.5, "class": "dmnpc-nomo-mark", visibility: "hidden"});
      root.appendChild(m);
      var st = svg("text", {x: X1, y: y + 14, "text-anchor": "end", "class": "dmnpc-nomo-value"}, "");
      root.appendChild(st);
      marks.surv.push({mark: m, text: st, key: "surv_" + fmtTime(tm.time)});
    });
    marks.guide = svg("line", {x1: X0, x2: X0, y1: totalY, y2: y + 26, "class": "dmnpc-nomo-guide", visibility: "hidden"});
    root.insertBefore(marks.guide, root.firstChild.nextSibling.nextSibling);

    function show(pred, x) {
      var on = !!pred;
      marks.terms.forEach(function (m, j) {
        m.mark.setAttribute("visibility", on ? "visible" : "hidden");
        if (on) m.mark.setAttribute("cx", m.x[x[j]]);
        marks.labels[j].forEach(function (t, i) {
          if (t) t.setAttribute("class", "dmnpc-nomo-tick" + (on && i === x[j] ? " dmnpc-nomo-chosen" : ""));
        });
        marks.rowPts[j].textContent = on ? pts(pred.points[model.terms[j].name]) + " pts" : "";
      });
      [marks.total, marks.guide].forEach(function (m) { m.setAttribute("visibility", on ? "visible" : "hidden"); });
      marks.totalText.textContent = on ? pts(pred.total_points) + " pts" : "";
      if (on) {
        var tx = xTot(Math.min(pred.total_points, tpMax));
        marks.total.setAttribute("cx", tx);
        marks.guide.setAttribute("x1", tx);
        marks.guide.setAttribute("x2", tx);
      }
      marks.surv.forEach(function (s) {
        s.mark.setAttribute("visibility", on ? "visible" : "hidden");
        if (on) s.mark.setAttribute("cx", xTot(Math.min(pred.total_points, tpMax)));
        s.text.textContent = on ? pct(pred[s.key]) : "";
      });
      desc.textContent = on ? summary(model, pred) : "No patient entered yet.";
    }
    return {node: root, show: show};
  }

  function summary(model, pred) {
    var parts = model.times.map(function (tm) {
      var k = "surv_" + fmtTime(tm.time);
      return tm.label + " " + pct(pred[k]) + " (95% CI " + pct(pred[k + "_lower"]) + " to " + pct(pred[k + "_upper"]) + ")";
    });
    return "Total points " + pts(pred.total_points) + ", " + pred.risk_group + "-risk cohort. " +
      parts.join("; ") + "." + (pred.warnings.length ? " " + pred.warnings.length +
      " warning" + (pred.warnings.length > 1 ? "s" : "") + ": the prediction extrapolates." : "");
  }

  // ------------------------------------------------------------------ the form
  function build(container, model, text) {
    var predict = makePredict(model);
    var ids = {};
    var touched = {};
    var form = el("form", {className: "dmnpc-calc-form", novalidate: "novalidate", "aria-describedby": "dmnpc-calc-intro"});
    form.addEventListener("submit", function (e) { e.preventDefault(); update(true); });
    var cohort = model.cohort.synthetic ? model.cohort.name : "cohort file " + model.cohort.name;
    var intro = el("p", {id: "dmnpc-calc-intro", className: "dmnpc-calc-note"}, [
      "Model fitted on the " + cohort + " (n = " + model.cohort.n + ", " + model.cohort.events +
      " deaths). Enter all five values; the prediction appears as you type."]);
    container.appendChild(intro);
    if (model.cohort.synthetic) {
      container.appendChild(el("p", {className: "dmnpc-calc-twin", id: "dmnpc-calc-twin"}, [
        "This prediction comes from the synthetic twin: a model fitted on 90 invented patients made to match " +
        "the paper's published aggregates. It shows how the paper's nomogram works, not what is true of real " +
        "patients."]));
    }

    function hintFor(name) {
      var spec = inputSpec(model, name);
      var term = model.terms.filter(function (t) { return t.rule.input === name; })[0];
      var cut = term && term.rule.op !== "==" ? " The model uses only whether it is " +
        (term.rule.op === ">=" ? "≥ " : "< ") + fmt(term.rule.value) + "." : "";
      return "Development data: " + fmt(spec.observed.min) + " to " + fmt(spec.observed.max) + " " + spec.unit + "." + cut;
    }

    INPUTS.forEach(function (name) {
      var spec = inputSpec(model, name);
      var id = "dmnpc-in-" + name;
      var err = el("p", {id: id + "-error", className: "dmnpc-calc-error"});
      if (name === "met_lesions") {
        var fs = el("fieldset", {className: "dmnpc-calc-field", id: id, "aria-describedby": id + "-error"});
        fs.appendChild(el("legend", {}, ["Metastatic lesions"]));
        var radios = [];
        spec.levels.forEach(function (lev) {
          var rid = id + "-" + lev;
          var r = el("input", {type: "radio", name: "met_lesions", value: lev, id: rid});
          r.addEventListener("change", function () { touched[name] = true; update(); });
          radios.push(r);
          fs.appendChild(el("span", {className: "dmnpc-calc-radio"}, [r, el("label", {"for": rid},
            [lev === "single" ? "Single" : "Multiple"])]));
        });
        fs.appendChild(err);
        form.appendChild(fs);
        ids[name] = {radios: radios, error: err, box: fs};
        return;
      }
      var box = el("div", {className: "dmnpc-calc-field"});
      var label = el("label", {"for": id}, [spec.label + " ", el("span", {className: "dmnpc-calc-unit"}, ["(" + spec.unit + ")"])]);
      var input = el("input", {id: id, name: name, type: "text", autocomplete: "off", spellcheck: "false",
                               inputmode: spec.contract.integer ? "numeric" : "decimal",
                               "aria-describedby": id + "-hint " + id + "-error"});
      var hint = el("p", {id: id + "-hint", className: "dmnpc-calc-hint"}, [hintFor(name)]);
      input.addEventListener("input", function () { touched[name] = true; update(); });
      input.addEventListener("blur", function () { touched[name] = true; update(); });
      box.appendChild(label);
      box.appendChild(input);
      box.appendChild(hint);
      box.appendChild(err);
      form.appendChild(box);
      ids[name] = {input: input, error: err, box: box};
    });
    var buttons = el("div", {className: "dmnpc-calc-buttons"});
    var clear = el("button", {type: "button", className: "dmnpc-calc-button"}, ["Clear"]);
    clear.addEventListener("click", function () {
      INPUTS.forEach(function (n) {
        touched[n] = false;
        if (ids[n].input) ids[n].input.value = "";
        else ids[n].radios.forEach(function (r) { r.checked = false; });
      });
      update();
      ids.age.input.focus();
    });
    buttons.appendChild(clear);
    var blob = new Blob([text], {type: "application/json"});
    var link = el("a", {href: URL.createObjectURL(blob), download: "dmnpc-os-model.json", className: "dmnpc-calc-button",
                        id: "dmnpc-calc-download"}, ["Download the model (JSON)"]);
    buttons.appendChild(link);
    form.appendChild(buttons);
    container.appendChild(form);

    var status = el("p", {id: "dmnpc-calc-status", className: "dmnpc-calc-status", role: "status",
                          "aria-live": "polite", "aria-atomic": "true"});
    container.appendChild(status);
    var results = el("div", {id: "dmnpc-calc-results", className: "dmnpc-calc-results"});
    container.appendChild(results);
    var nomo = drawNomogram(model);
    var fig = el("figure", {className: "dmnpc-calc-figure"}, [nomo.node, el("figcaption", {}, [
      "The nomogram of this model, redrawn by the calculator: the patient's level on each factor, the total " +
      "points and the 1- and 2-year survival read off are marked as you type."])]);
    container.appendChild(fig);

    function raw() {
      var p = {};
      INPUTS.forEach(function (n) {
        if (ids[n].input) p[n] = ids[n].input.value;
        else {
          var r = ids[n].radios.filter(function (x) { return x.checked; })[0];
          p[n] = r ? r.value : "";
        }
      });
      return p;
    }

    function announce(msg) {
      if (status.textContent !== msg) status.textContent = msg;
    }

    function update() {
      var p = raw();
      var c = check(model, p);
      var shownProblems = 0;
      INPUTS.forEach(function (n) {
        var msg = c.problems[n];
        var empty = n === "met_lesions" ? p[n] === "" : String(p[n]).trim() === "";
        var visible = msg && (touched[n] || !empty);
        ids[n].error.textContent = visible ? msg : "";
        var targets = ids[n].input ? [ids[n].input] : ids[n].radios;
        targets.forEach(function (t) {
          if (visible) t.setAttribute("aria-invalid", "true"); else t.removeAttribute("aria-invalid");
        });
        ids[n].box.classList.toggle("dmnpc-calc-invalid", !!visible);
        if (visible) shownProblems++;
      });
      results.textContent = "";
      var missing = Object.keys(c.problems).length;
      if (missing) {
        nomo.show(null);
        container.removeAttribute("data-state");
        container.setAttribute("data-state", shownProblems ? "invalid" : "incomplete");
        var msg = shownProblems ? "No prediction: " + shownProblems + " field" + (shownProblems > 1 ? "s need" : " needs") +
          " correcting." : "Enter all five values to see the prediction.";
        results.appendChild(el("p", {className: "dmnpc-calc-empty"}, [msg]));
        announce(msg);
        return;
      }
      var pred = predict(p);
      container.setAttribute("data-state", "ok");
      render(pred, design(model, c.values));
      nomo.show(pred, design(model, c.values));
      announce(summary(model, pred));
    }

    function num(tag, value, text, attrs) {
      var a = attrs || {};
      a["data-value"] = String(value);
      return el(tag, a, [text]);
    }

    function render(pred, x) {
      if (pred.warnings.length) {
        var ul = el("ul", {className: "dmnpc-calc-warnings", id: "dmnpc-calc-warnings"});
        pred.warnings.forEach(function (w) { ul.appendChild(el("li", {}, [w])); });
        results.appendChild(el("div", {className: "dmnpc-calc-warnbox"}, [
          el("p", {}, [el("strong", {}, ["Outside the development data"])]), ul]));
      }
      var head = el("p", {className: "dmnpc-calc-headline"}, [
        "Total points ", num("strong", pred.total_points, pts(pred.total_points), {id: "dmnpc-out-total_points"}),
        ": ", num("strong", pred.risk_group, pred.risk_group === "high" ? "high-risk" : "low-risk",
                  {id: "dmnpc-out-risk_group"}),
        " cohort (" + (pred.risk_group === "high" ? "above" : "at or below") + " the development cohort's " +
        model.risk.split + " of " + pts(model.risk.threshold) + " points)."]);
      results.appendChild(head);
      var pub = model.published_points;
      var cols = ["Factor", "Patient's level", "Points"];
      if (pub) cols.push("Paper's Fig. 3A");
      var thead = el("thead", {}, [el("tr", {}, cols.map(function (c) { return el("th", {scope: "col"}, [c]); }))]);
      var tbody = el("tbody");
      model.terms.forEach(function (t, j) {
        var cells = [el("th", {scope: "row"}, [t.label]), el("td", {}, [t.levels[x[j]].label]),
                     num("td", pred.points[t.name], pts(pred.points[t.name]), {id: "dmnpc-out-points-" + t.name})];
        if (pub) {
          var pp = pub[t.name] && pub[t.name][String(x[j])];
          cells.push(el("td", {}, [pp === undefined ? "not printed" : pts(pp)]));
        }
        tbody.appendChild(el("tr", {}, cells));
      });
      var tfoot = el("tfoot", {}, [el("tr", {}, [el("th", {scope: "row", colspan: "2"}, ["Total"]),
        num("td", pred.total_points, pts(pred.total_points))].concat(pub ? [el("td")] : []))]);
      results.appendChild(el("div", {className: "dmnpc-calc-scroll"}, [el("table", {className: "dmnpc-calc-table"}, [
        el("caption", {}, ["Points per factor"]), thead, tbody, tfoot])]));
      var st = el("tbody");
      model.times.forEach(function (tm) {
        var k = "surv_" + fmtTime(tm.time);
        st.appendChild(el("tr", {}, [el("th", {scope: "row"}, [tm.label.replace(" survival", "")]),
          num("td", pred[k], pct(pred[k]), {id: "dmnpc-out-" + k}),
          el("td", {}, [num("span", pred[k + "_lower"], pct(pred[k + "_lower"]), {id: "dmnpc-out-" + k + "_lower"}), " to ",
                        num("span", pred[k + "_upper"], pct(pred[k + "_upper"]), {id: "dmnpc-out-" + k + "_upper"})])]));
      });
      results.appendChild(el("div", {className: "dmnpc-calc-scroll"}, [el("table", {className: "dmnpc-calc-table"}, [
        el("caption", {}, ["Predicted overall survival"]),
        el("thead", {}, [el("tr", {}, ["Horizon", "Survival", "95% CI"].map(function (c) {
          return el("th", {scope: "col"}, [c]); }))]), st])]));
      if (!pub && model.cohort.synthetic) {
        results.appendChild(el("p", {className: "dmnpc-calc-note"}, [
          "The paper's own points (its Fig. 3A) cannot be shown beside these: the figure's values are not " +
          "printed in the text available to this project."]));
      }
    }

    update();
    return predict;
  }

  function init() {
    var container = document.getElementById("dmnpc-calculator");
    var data = document.getElementById("dmnpc-model");
    if (!container || !data || container.getAttribute("data-ready")) return;
    var text = data.textContent;
    var model = JSON.parse(text);
    if (model.format !== "dmnpc-calculator" || model.version !== 1) {
      container.appendChild(el("p", {}, ["This calculator cannot read the model file (format " + model.format +
        " version " + model.version + ")."]));
      return;
    }
    var noscript = container.querySelector(".dmnpc-calc-noscript");
    if (noscript) noscript.remove();
    var predict = build(container, model, text);
    container.setAttribute("data-ready", "true");
    window.dmnpcCalculator = {predict: predict, model: model, check: function (p) { return check(model, p); },
                              format: fmt};
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
