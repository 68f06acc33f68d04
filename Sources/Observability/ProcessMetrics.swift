import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The standard Prometheus process metrics every service adds to its own: CPU seconds (all
/// threads, user and system), resident memory, and start time. They let an operator — and
/// `Scripts/bench.sh` — see what each service costs per job.
public enum ProcessMetrics {
    private static let startTime = Date().timeIntervalSince1970

    /// CPU time (user + system) of the whole process so far: every thread, including ZeroMQ's.
    public static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    public static func exposition(into exposition: inout PrometheusExposition) {
        exposition.counter(
            "process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", cpuSeconds())
        if let resident = residentBytes() {
            exposition.gauge("process_resident_memory_bytes", "Resident memory size in bytes.", resident)
        }
        exposition.gauge(
            "process_start_time_seconds", "Start time of the process since the Unix epoch in seconds.", startTime)
        InfoMetrics.exposition(into: &exposition)
    }

    /// From /proc/self/statm (pages × page size); nil where there is no /proc.
    private static func residentBytes() -> Double? {
        guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return nil }
        let fields = statm.split(separator: " ")
        guard fields.count > 1, let pages = Double(fields[1]) else { return nil }
        return pages * Double(sysconf(Int32(_SC_PAGESIZE)))
    }
}
