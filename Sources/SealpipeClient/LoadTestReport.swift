import Foundation

/// A self-contained HTML page for a load test: the figures, a latency-over-time chart and a
/// percentile chart, drawn as inline SVG (no scripts, no external files).
public enum LoadTestReport {
    public static func html(_ result: LoadTestResult, title: String) -> String {
        let rows: [(String, String)] = [
            (
                "mode",
                result.mode + (result.targetRatePerSecond.map { " at \(format($0)) jobs/s" } ?? "")
                    + (result.concurrency.map { " with \($0) in flight" } ?? "")
            ),
            ("requests (measured)", "\(result.requests)"), ("results", "\(result.results)"),
            (
                "errors",
                result.errors == 0
                    ? "0"
                    : "\(result.errors) "
                        + result.errorsByCode.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(
                            separator: " ")
            ),
            ("throughput", "\(format(result.throughputPerSecond)) jobs/s"),
            (
                "p50 / p90 / p99 / p99.9 / max",
                [
                    result.p50Milliseconds, result.p90Milliseconds, result.p99Milliseconds, result.p999Milliseconds,
                    result.maxMilliseconds,
                ].map { format($0) }.joined(separator: " / ") + " ms"
            ),
        ]
        let table = rows.map { "<tr><th>\(escape($0.0))</th><td>\(escape($0.1))</td></tr>" }.joined(separator: "\n")
        let timeline = lineChart(
            series: [
                ("p50", "#1f77b4", result.timeline.map { (Double($0.second), $0.p50Milliseconds) }),
                ("p99", "#d62728", result.timeline.map { (Double($0.second), $0.p99Milliseconds) }),
            ], xLabel: "second of the run", yLabel: "latency (ms)", logX: false)
        let percentiles = lineChart(
            series: [("latency", "#2ca02c", result.percentiles.map { (min($0.percentile, 99.999), $0.milliseconds) })],
            xLabel: "percentile (log scale of 1/(1-p))", yLabel: "latency (ms)", logX: true)
        return """
            <!doctype html>
            <html><head><meta charset="utf-8"><title>\(escape(title))</title>
            <style>body{font-family:sans-serif;margin:2em;max-width:900px}th{text-align:left;padding-right:1em}
            svg{border:1px solid #ccc;margin:1em 0}</style></head>
            <body><h1>\(escape(title))</h1>
            <table>\(table)</table>
            <h2>Latency over time</h2>\(timeline)
            <h2>Latency by percentile</h2>\(percentiles)
            <p>Latency is measured from each job's intended send time (coordinated-omission corrected), in an HDR histogram.</p>
            </body></html>
            """
    }

    static func lineChart(series: [(String, String, [(Double, Double)])], xLabel: String, yLabel: String, logX: Bool)
        -> String
    {
        let width = 800.0
        let height = 320.0
        let left = 60.0
        let bottom = 40.0
        let top = 20.0
        let right = 20.0
        func x(_ value: Double) -> Double { logX ? log10(1 / max(1e-5, 1 - value / 100)) : value }
        let points = series.flatMap(\.2)
        guard !points.isEmpty else { return "<p>no data</p>" }
        let xs = points.map { x($0.0) }
        let minX = xs.min()!
        let maxX = max(xs.max()!, minX + 1)
        let maxY = max(points.map(\.1).max()!, 0.001) * 1.1
        func px(_ value: Double) -> Double { left + (x(value) - minX) / (maxX - minX) * (width - left - right) }
        func py(_ value: Double) -> Double { height - bottom - value / maxY * (height - bottom - top) }
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\">"
        svg +=
            "<line x1=\"\(left)\" y1=\"\(height - bottom)\" x2=\"\(width - right)\" y2=\"\(height - bottom)\" stroke=\"#333\"/>"
        svg += "<line x1=\"\(left)\" y1=\"\(top)\" x2=\"\(left)\" y2=\"\(height - bottom)\" stroke=\"#333\"/>"
        for step in 0...4 {
            let value = maxY * Double(step) / 4
            svg +=
                "<text x=\"\(left - 6)\" y=\"\(py(value) + 4)\" font-size=\"11\" text-anchor=\"end\">\(format(value))</text>"
        }
        svg +=
            "<text x=\"\(width / 2)\" y=\"\(height - 8)\" font-size=\"12\" text-anchor=\"middle\">\(escape(xLabel))</text>"
        svg +=
            "<text x=\"14\" y=\"\(height / 2)\" font-size=\"12\" transform=\"rotate(-90 14 \(height / 2))\" text-anchor=\"middle\">\(escape(yLabel))</text>"
        for (index, (name, color, data)) in series.enumerated() where !data.isEmpty {
            let path = data.map { "\(px($0.0)),\(py($0.1))" }.joined(separator: " ")
            svg += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" points=\"\(path)\"/>"
            svg +=
                "<text x=\"\(width - right - 80)\" y=\"\(top + 14 + Double(index) * 16)\" font-size=\"12\" fill=\"\(color)\">\(escape(name))</text>"
        }
        if logX {
            for percentile in [50.0, 90, 99, 99.9, 99.99] where x(percentile) <= maxX {
                svg +=
                    "<text x=\"\(px(percentile))\" y=\"\(height - bottom + 14)\" font-size=\"11\" text-anchor=\"middle\">p\(format(percentile))</text>"
            }
        }
        return svg + "</svg>"
    }

    static func format(_ value: Double) -> String {
        value >= 100
            ? String(format: "%.0f", value)
            : value >= 10 ? String(format: "%.1f", value) : String(format: "%.2f", value)
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }
}
