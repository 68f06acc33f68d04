import Crypto
public import Foundation

/// The simulated TEE's measurement rule, shared by the node that reports it and the broker that
/// computes the reference value for `reference-build`.
///
/// measurement = SHA-384("sealpipe-sim-measurement-v1" ‖ SHA-384(executable file) ‖
/// SHA-384(stage configuration bytes)). Named `SimulatedTEE` rather than `Measurement` so it never
/// collides with Foundation's `Measurement` in a file that imports both.
public enum SimulatedTEE {
    /// Domain separation for the measurement, versioned so the rule can change visibly.
    public static let measurementDomain = "sealpipe-sim-measurement-v1"
    public static let measurementByteCount = 48

    /// The executable of the running process (`/proc/self/exe` on Linux).
    public static var runningExecutable: URL {
        #if os(Linux)
            URL(fileURLWithPath: "/proc/self/exe")
        #else
            Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])
        #endif
    }

    /// The measurement of `executable` running with `configuration`.
    public static func measurement(executable: URL, configuration: [UInt8]) throws(AttestationError) -> [UInt8] {
        measurement(executableDigest: try executableDigest(of: executable), configuration: configuration)
    }

    /// SHA-384 of an executable file, so a broker measuring many roles hashes its binary once.
    public static func executableDigest(of executable: URL) throws(AttestationError) -> [UInt8] {
        try digestOfFile(at: executable)
    }

    /// The measurement from an executable's SHA-384 (see `executableDigest(of:)`) and a configuration.
    public static func measurement(executableDigest: [UInt8], configuration: [UInt8]) -> [UInt8] {
        var outer = Crypto.SHA384()
        outer.update(data: Array(measurementDomain.utf8))
        outer.update(data: executableDigest)
        outer.update(data: Array(Crypto.SHA384.hash(data: configuration)))
        return Array(outer.finalize())
    }

    private static func digestOfFile(at url: URL) throws(AttestationError) -> [UInt8] {
        do {
            let handle = try FileHandle(forReadingFrom: url)
            defer { try? handle.close() }
            var hasher = Crypto.SHA384()
            while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
                hasher.update(data: chunk)
            }
            return Array(hasher.finalize())
        } catch {
            throw .io(path: url.path, reason: "cannot read executable to measure it (\(error.localizedDescription))")
        }
    }
}
