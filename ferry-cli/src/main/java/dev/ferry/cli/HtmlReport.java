package dev.ferry.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;

/**
 * One self-contained HTML file (no network at view time): uPlot and its stylesheet are inlined from the uPlot
 * WebJar on the classpath, and the data is embedded as JSON. Charts, one series per pool: throughput, p50 and
 * p99 latency per second, pool size and waiting callers per second, pool size against demand (lent plus waiting),
 * and the latency distribution.
 */
final class HtmlReport {

    private static final String UPLOT = "META-INF/resources/webjars/uplot/" + uplotVersion() + "/dist/";
    /** Percentiles plotted in the distribution chart, on a "nines" axis. */
    private static final double[] PERCENTILES = {0, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 100};

    private HtmlReport() {
    }

    private static String uplotVersion() {
        try (InputStream in = HtmlReport.class.getResourceAsStream(
                "/META-INF/maven/org.webjars.npm/uplot/pom.properties")) {
            java.util.Properties p = new java.util.Properties();
            p.load(in);
            return p.getProperty("version");
        } catch (IOException | NullPointerException e) {
            return "1.6.30";
        }
    }

    static void write(Path file, String title, Map<String, Object> summary, List<RunResult> results)
            throws IOException {
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("title", title);
        data.put("summary", summary);
        data.put("sampleSeconds", LoadRunner.SAMPLE_MILLIS / 1000.0);
        List<Map<String, Object>> distributions = new ArrayList<>();
        for (RunResult r : results) {
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("pool", r.pool());
            List<Double> x = new ArrayList<>();
            List<Double> y = new ArrayList<>();
            Histogram h = r.latency();
            for (double p : PERCENTILES) {
                x.add(p >= 100 ? 5.0 : -Math.log10(1 - p / 100)); // 50% -> 0.3, 90% -> 1, 99% -> 2, 99.9% -> 3
                y.add(p >= 100 ? RunResult.maxMs(h) : RunResult.ms(h, p));
            }
            d.put("x", x);
            d.put("y", y);
            distributions.add(d);
        }
        data.put("distributions", distributions);
        String json = new ObjectMapper().writeValueAsString(data).replace("</", "<\\/");
        String html = TEMPLATE
                .replace("/*UPLOT_CSS*/", resource(UPLOT + "uPlot.min.css"))
                .replace("/*UPLOT_JS*/", resource(UPLOT + "uPlot.iife.min.js"))
                .replace("/*DATA*/", json)
                .replace("<!--TITLE-->", escape(title));
        Files.writeString(file, html, StandardCharsets.UTF_8);
    }

    private static String resource(String path) throws IOException {
        try (InputStream in = HtmlReport.class.getClassLoader().getResourceAsStream(path)) {
            if (in == null) {
                throw new IOException("missing " + path + " (the uPlot WebJar) on the classpath");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }

    private static final String TEMPLATE = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title><!--TITLE--></title>
            <style>/*UPLOT_CSS*/</style>
            <style>
              body { font: 14px system-ui, sans-serif; margin: 24px; color: #222; }
              h1 { font-size: 20px; } h2 { font-size: 16px; margin-top: 28px; }
              table { border-collapse: collapse; } td, th { padding: 4px 10px; border-bottom: 1px solid #ddd; text-align: right; }
              th:first-child, td:first-child { text-align: left; }
              .grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(560px, 1fr)); gap: 12px; }
              .note { color: #666; font-size: 12px; }
            </style></head>
            <body>
            <h1><!--TITLE--></h1>
            <p class="note" id="settings"></p>
            <table id="summary"></table>
            <div id="batching"></div>
            <p class="note"><label><input type="checkbox" id="logscale"> log scale for the charts over time</label>
              (so a pool far above or below the others, such as <code>direct</code>, does not flatten them);
              click a pool in a chart's legend to hide or show it.</p>
            <div class="grid">
              <div><h2>Throughput (requests completed per second)</h2><div id="throughput"></div></div>
              <div><h2>Latency p50 over time (ms)</h2><div id="p50"></div></div>
              <div><h2>Latency p99 over time (ms)</h2><div id="p99"></div></div>
              <div><h2>Pool size (physical connections)</h2><div id="size"></div></div>
              <div><h2>Callers waiting for a connection</h2><div id="waiting"></div></div>
              <div><h2>Pool size (solid) against demand: lent + waiting (dashed)</h2><div id="demand"></div></div>
              <div><h2>Latency distribution (ms by percentile)</h2><div id="dist"></div></div>
            </div>
            <script>/*UPLOT_JS*/</script>
            <script>
            const DATA = /*DATA*/;
            const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"];
            const pools = Object.keys(DATA.summary.pools);
            document.getElementById("settings").textContent = "settings: " + JSON.stringify(DATA.summary.settings);
            const table = document.getElementById("summary");
            // As RunResult.successText: rounded down, with the decimals it takes, so a failure never reads 100.0.
            const success = (ok, n) => {
              if (n === 0) return "-";
              if (ok >= n) return "100.0";
              const failed100 = BigInt(n - ok) * 100n, all = BigInt(n); // exact, as in Java
              let d = 1;
              while (d < 4 && failed100 * 10n ** BigInt(d) < all) d++;
              const scaled = (BigInt(ok) * 100n * 10n ** BigInt(d) / all).toString().padStart(d + 1, "0");
              return scaled.slice(0, -d) + "." + scaled.slice(-d);
            };
            const head = ["pool", "requests", "success %", "failed", "timeouts", "req/s", "p50 ms", "p95 ms", "p99 ms", "max ms",
                          "acquire p99 ms", "connections opened", "peak pool", "round trips"];
            table.innerHTML = "<tr>" + head.map(h => "<th>" + h + "</th>").join("") + "</tr>" + pools.map(p => {
              const r = DATA.summary.pools[p], f = v => (Math.round(v * 100) / 100).toString();
              return "<tr>" + [p + (r.batched ? " (batched)" : ""), r.requests, success(r.succeeded, r.requests), r.failed, r.timeouts,
                f(r.throughput_per_s), f(r.latency_ms.p50), f(r.latency_ms.p95), f(r.latency_ms.p99), f(r.latency_ms.max),
                r.acquire_measured ? f(r.acquire_ms.p99) : "-", r.connections_opened, r.peak_pool_size, r.round_trips]
                .map(v => "<td>" + v + "</td>").join("") + "</tr>";
            }).join("");
            const batched = pools.filter(p => DATA.summary.pools[p].batch);
            if (batched.length > 0) {
              const bucket = low => low === 1 ? "1" : low + "-" + (2 * low - 1);
              document.getElementById("batching").innerHTML = "<h2>Batching</h2><table><tr><th>pool</th><th>batches</th>"
                + "<th>requests per batch</th><th>batch sizes</th><th>flushed because</th><th>mean queue wait ms</th></tr>"
                + batched.map(p => { const b = DATA.summary.pools[p].batch; return "<tr>" + [p, b.batches,
                    (Math.round(b.requests_per_batch * 10) / 10).toString(),
                    Object.entries(b.batch_sizes).map(([low, n]) => bucket(Number(low)) + ": " + n).join(", "),
                    Object.entries(b.flush_reasons).filter(([, n]) => n > 0).map(([r, n]) => r + " " + n).join(", "),
                    (Math.round(b.mean_queue_wait_ms * 100) / 100).toString()]
                  .map(v => "<td>" + v + "</td>").join("") + "</tr>"; }).join("") + "</table>";
            }
            // The fault (--fault-command or --chaos), when the run had one: a dashed grey line at its time on every
            // chart over time (the x axis is seconds into the measured run, as --fault-at is).
            const faultAt = DATA.summary.settings.fault_at_s;
            const faultHooks = faultAt == null ? {} : { draw: [u => {
              const x = u.valToPos(faultAt, "x", true), ctx = u.ctx;
              ctx.save(); ctx.strokeStyle = "#888"; ctx.lineWidth = 1.5; ctx.setLineDash([5, 4]);
              ctx.beginPath(); ctx.moveTo(x, u.bbox.top); ctx.lineTo(x, u.bbox.top + u.bbox.height); ctx.stroke();
              ctx.restore(); }] };
            if (faultAt != null) {
              const what = DATA.summary.settings.chaos ? "--chaos " + DATA.summary.settings.chaos
                  : "--fault-command " + DATA.summary.settings.fault_command;
              document.getElementById("settings").textContent += "  |  dashed grey line on the charts over time: "
                  + what + " at " + faultAt + " s";
            }
            // On a log scale a zero has no place: it is left out of the line (null) instead of breaking the axis.
            const drawn = {};
            const onScale = (v, log) => v == null || (log && v <= 0) ? null : v;
            function timeChart(id, field, label, log) {
              const len = Math.max(1, ...pools.map(p => DATA.summary.pools[p].timeline.length));
              const x = Array.from({length: len}, (_, i) => Math.round((i + 1) * DATA.sampleSeconds * 10) / 10);
              const series = pools.map(p => x.map((_, i) => {
                const s = DATA.summary.pools[p].timeline[i]; return s ? onScale(s[field], log) : null; }));
              const el = document.getElementById(id);
              if (drawn[id]) drawn[id].destroy();
              el.innerHTML = "";
              drawn[id] = new uPlot({ width: 560, height: 260, hooks: faultHooks,
                scales: { x: { time: false }, y: log ? { distr: 3 } : {} },
                axes: [{ label: "seconds" }, { label: label + (log ? " (log)" : "") }],
                series: [{}].concat(pools.map((p, i) => ({ label: p, stroke: COLORS[i % COLORS.length], width: 2 }))) },
                [x].concat(series), el);
            }
            function timeCharts(log) {
              timeChart("throughput", "throughput", "requests/s", log);
              timeChart("p50", "p50Ms", "ms", log);
              timeChart("p99", "p99Ms", "ms", log);
              timeChart("size", "poolSize", "connections", log);
              timeChart("waiting", "waiting", "callers", log);
            }
            timeCharts(document.getElementById("logscale").checked); // a reload may restore the box ticked
            document.getElementById("logscale").addEventListener("change", e => timeCharts(e.target.checked));
            (function () {
              const len = Math.max(1, ...pools.map(p => DATA.summary.pools[p].timeline.length));
              const x = Array.from({length: len}, (_, i) => Math.round((i + 1) * DATA.sampleSeconds * 10) / 10);
              const at = (p, f) => x.map((_, i) => { const s = DATA.summary.pools[p].timeline[i]; return s ? f(s) : null; });
              const series = [], data = [x];
              pools.forEach((p, i) => {
                series.push({ label: p + " size", stroke: COLORS[i % COLORS.length], width: 2 });
                data.push(at(p, s => s.poolSize));
                series.push({ label: p + " demand", stroke: COLORS[i % COLORS.length], width: 1, dash: [6, 4] });
                data.push(at(p, s => s.active + s.waiting));
              });
              new uPlot({ width: 560, height: 260, hooks: faultHooks, scales: { x: { time: false } },
                axes: [{ label: "seconds" }, { label: "connections" }], series: [{}].concat(series) }, data,
                document.getElementById("demand"));
            })();
            (function () {
              const x = DATA.distributions[0].x;
              const names = ["0", "50", "75", "90", "95", "99", "99.5", "99.9", "99.95", "99.99", "max"];
              new uPlot({ width: 560, height: 260, scales: { x: { time: false }, y: { distr: 3 } },
                axes: [{ label: "percentile", values: (u, vals) => vals.map(v => {
                          const i = x.findIndex(t => Math.abs(t - v) < 0.05); return i >= 0 ? names[i] : ""; }) },
                       { label: "ms (log)" }],
                series: [{}].concat(DATA.distributions.map((d, i) => ({ label: d.pool, stroke: COLORS[i % COLORS.length], width: 2 }))) },
                [x].concat(DATA.distributions.map(d => d.y.map(v => Math.max(v, 0.001)))), document.getElementById("dist"));
            })();
            </script>
            </body></html>
            """;
}
