/* The dashboard's charts: drawn by the vendored ECharts from the page's embedded JSON.
   Without JavaScript (or without the library) the tables below show every figure. */
(function () {
  "use strict";
  var source = document.getElementById("dashboard-data");
  if (!source || typeof window.echarts === "undefined") { return; }
  var data = JSON.parse(source.textContent || "{}");
  var L = data.labels || {};
  var BLUE = "#1f3a68", LIGHT = "#8fa6cc", GREEN = "#1e7b34", ORANGE = "#c77700", RED = "#b3261e", GREY = "#5f6368";
  var charts = [];
  var narrow = window.matchMedia("(max-width: 600px)").matches;
  // A real font list: a canvas cannot "inherit" the page's font.
  var FONT = '-apple-system, "PingFang SC", "Hiragino Sans GB", "Noto Sans CJK SC", "Microsoft YaHei", sans-serif';

  function draw(name, option) {
    var box = document.querySelector('[data-chart="' + name + '"]');
    if (!box) { return; }
    box.hidden = false;
    var chart = window.echarts.init(box, null, { renderer: "canvas" });
    chart.setOption(Object.assign({ animation: false, textStyle: { fontFamily: FONT, fontSize: 12 } }, option));
    box.setAttribute("data-drawn", "1");
    charts.push(chart);
  }

  function short(text, n) { return text.length > n ? text.slice(0, n - 1) + "…" : text; }

  var targets = data.targets || [];
  if (targets.length) {
    draw("targets", {
      title: { text: L.chart_targets, left: 0, textStyle: { fontSize: 14 } },
      tooltip: { trigger: "axis", valueFormatter: function (v) { return v + "%"; } },
      legend: { top: 22, data: [L.progress, L.forecast] },
      grid: { left: 8, right: 24, top: 56, bottom: 8, containLabel: true },
      xAxis: { type: "value", axisLabel: { formatter: "{value}%" } },
      yAxis: { type: "category", inverse: true, data: targets.map(function (t) { return short(t.name, narrow ? 10 : 24); }) },
      series: [
        { name: L.progress, type: "bar", data: targets.map(function (t) { return t.percent; }), itemStyle: { color: BLUE },
          markLine: { silent: true, symbol: "none", data: [{ xAxis: 100 }], lineStyle: { color: RED, type: "dashed" }, label: { formatter: "100%" } } },
        { name: L.forecast, type: "bar", data: targets.map(function (t) { return t.forecast; }), itemStyle: { color: LIGHT } }
      ]
    });
  }

  var months = data.months || [];
  if (months.length) {
    // People (registrations, check-ins) in hundreds as bars on the right axis; the programme's own
    // counts (sessions, demands, connections, contracts, brokers) in tens as lines on the left.
    var bars = [["registrations", LIGHT], ["checkins", GREEN]];
    var lines = [["sessions", BLUE], ["demands", ORANGE], ["connections", GREY], ["transfers", RED], ["brokers", "#6a3d9a"]];
    var name = function (key) { return key === "brokers" ? L.brokers_certified : L[key]; };
    var values = function (key) { return months.map(function (m) { return m[key]; }); };
    draw("months", {
      title: { text: L.chart_months, left: 0, textStyle: { fontSize: 14 } },
      tooltip: { trigger: "axis" },
      legend: { top: 22, type: "scroll" },
      grid: { left: 8, right: 8, top: 60, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: months.map(function (m) { return m.month.slice(5); }) },
      yAxis: [{ type: "value", minInterval: 1 }, { type: "value", minInterval: 1, splitLine: { show: false } }],
      series: bars.map(function (s) {
        return { name: name(s[0]), type: "bar", yAxisIndex: 1, data: values(s[0]), itemStyle: { color: s[1], opacity: 0.55 } };
      }).concat(lines.map(function (s) {
        return { name: name(s[0]), type: "line", yAxisIndex: 0, data: values(s[0]), itemStyle: { color: s[1] }, lineStyle: { color: s[1], width: 2 } };
      }))
    });
  }

  var districts = data.districts || [];
  if (districts.length) {
    draw("districts", {
      title: { text: L.chart_districts, left: 0, textStyle: { fontSize: 14 } },
      tooltip: { trigger: "axis" },
      legend: { top: 22, data: [L.sessions, L.demands] },
      grid: { left: 8, right: 16, top: 56, bottom: 8, containLabel: true },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", inverse: true, data: districts.map(function (d) { return short(d.name, narrow ? 6 : 12); }) },
      series: [
        { name: L.sessions, type: "bar", data: districts.map(function (d) { return d.sessions; }), itemStyle: { color: BLUE } },
        { name: L.demands, type: "bar", data: districts.map(function (d) { return d.demands; }), itemStyle: { color: ORANGE } }
      ]
    });
  }

  (data.funnels || []).forEach(function (f, i) {
    draw("funnel-" + i, {
      tooltip: { trigger: "item", formatter: "{b}: {c}" },
      color: [BLUE, "#3d5f96", LIGHT, GREEN],
      series: [{
        type: "funnel", sort: "none", left: "5%", right: "5%", top: 8, bottom: 8, minSize: "12%", gap: 2,
        label: { position: "inside", formatter: "{b}\n{c}", color: "#fff" },
        data: f.steps
      }]
    });
  });

  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
