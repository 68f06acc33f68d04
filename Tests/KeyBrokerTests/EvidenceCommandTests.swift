import Foundation
import TestVectors
import Testing

/// `sealpipe evidence verify` as operators (and independent test cases) run it: exit 0 accepted,
/// 1 refused with every failed check named, 2 on a usage error. Lives here because this target
/// already runs the built binary (`KeyBrokerProcessTests`).
@Suite(
    "sealpipe evidence verify", .timeLimit(.minutes(1)),
    .enabled(if: KeyBrokerProcessTests.binaryAvailable, "build the sealpipe binary first (swift build)"))
struct EvidenceCommandTests {
    static func run(_ arguments: [String]) throws -> (status: Int32, output: String, error: String) {
        let process = Process()
        process.executableURL = KeyBrokerProcessTests.binary
        process.arguments = ["evidence", "verify"] + arguments
        let output = Pipe()
        let error = Pipe()
        process.standardOutput = output
        process.standardError = error
        try process.run()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        let err = error.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
    }

    static func vector(_ path: String) -> String { TestVectors.url(path).path }

    @Test("TDX: accepted with collateral at its time; refused without it unless allowed; debug TD refused")
    func tdx() throws {
        let quote = Self.vector("tdx/dcap-qvl/tdx_quote")
        let collateral = Self.vector("tdx/dcap-qvl/tdx_quote_collateral.json")
        let accepted = try Self.run([
            "--kind", "tdx", quote, "--collateral", collateral, "--at", "2025-07-19T10:00:34Z",
        ])
        #expect(accepted.status == 0, "\(accepted.output)")
        let missing = try Self.run(["--kind", "tdx", quote, "--at", "2025-07-19T10:00:34Z"])
        #expect(missing.status == 1 && missing.error.contains("collateral"))
        let allowed = try Self.run([
            "--kind", "tdx", quote, "--at", "2025-07-19T10:00:34Z", "--allow-missing-collateral",
        ])
        #expect(allowed.status == 0)
        let stale = try Self.run([
            "--kind", "tdx", quote, "--collateral", collateral, "--at", "2025-09-01T00:00:00Z", "--json",
        ])
        #expect(stale.status == 1 && stale.error.contains("tcb-info") && stale.error.contains("pck-crl"))
        #expect(stale.output.contains("\"passed\" : false"))
        let debug = try Self.run([
            "--kind", "tdx", Self.vector("tdx/trustee/tdx_quote_4.dat"), "--at", "2024-01-01T00:00:00Z",
            "--allow-missing-collateral",
        ])
        #expect(debug.status == 1 && debug.error.contains("debug"))
        let wrongMRTD = try Self.run([
            "--kind", "tdx", quote, "--at", "2025-07-19T10:00:34Z", "--allow-missing-collateral", "--mrtd",
            String(repeating: "00", count: 48),
        ])
        #expect(wrongMRTD.status == 1 && wrongMRTD.error.contains("measurement"))
    }

    @Test("NVIDIA GPU: accepted with its chain and nonce; a wrong nonce or incomplete chain is refused")
    func nvidia() throws {
        let report = Self.vector("nvidia/nvtrust/hopperAttestationReport.txt")
        let chain = Self.vector("nvidia/nvtrust/hopperCertChain.txt")
        let nonce = "931d8dd0add203ac3d8b4fbde75e115278eefcdceac5b87671a748f32364dfcb"
        #expect(try Self.run(["--kind", "nvidia-gpu", report, "--cert-chain", chain, "--nonce", nonce]).status == 0)
        let wrong = try Self.run([
            "--kind", "nvidia-gpu", report, "--cert-chain", chain, "--nonce", String(repeating: "11", count: 32),
        ])
        #expect(wrong.status == 1 && wrong.error.contains("gpu-nonce"))
        let rootOnly = try Self.run([
            "--kind", "nvidia-gpu", report, "--cert-chain", Self.vector("nvidia/trustee/hopper_cert_chain_case2.txt"),
        ])
        #expect(rootOnly.status == 1 && rootOnly.error.contains("gpu-chain"))
    }

    @Test(
        "NVIDIA GPU with --rim: the 545.00 RIMs verify but the 550.90.07 report's blocks differ; a bad RIM fails gpu-rim"
    )
    func nvidiaRIM() throws {
        let report = Self.vector("nvidia/nvtrust/hopperAttestationReport.txt")
        let chain = Self.vector("nvidia/nvtrust/hopperCertChain.txt")
        let nonce = "931d8dd0add203ac3d8b4fbde75e115278eefcdceac5b87671a748f32364dfcb"
        let driver = Self.vector("nvidia/nvtrust/Driver_RIM_test_no_gpu.swidtag")
        let vbios = Self.vector("nvidia/nvtrust/1010_0200_882_96005E0001_test_no_gpu.swidtag")
        let base = ["--kind", "nvidia-gpu", report, "--cert-chain", chain, "--nonce", nonce]
        let refused = try Self.run(base + ["--at", "2025-01-01T00:00:00Z", "--rim", driver, "--rim", vbios])
        #expect(refused.status == 1 && refused.error.contains("gpu-measurements"), "\(refused.output)")
        #expect(!refused.error.contains("gpu-rim") && refused.output.contains("✓ gpu-rim"))
        let expired = try Self.run(base + ["--at", "2025-07-01T00:00:00Z", "--rim", driver])
        #expect(expired.status == 1 && expired.error.contains("gpu-rim"))
        let notRIM = try Self.run(base + ["--at", "2025-01-01T00:00:00Z", "--rim", chain])
        #expect(notRIM.status == 1 && notRIM.error.contains("gpu-rim") && notRIM.output.contains(chain))
        #expect(try Self.run(["--kind", "tdx", Self.vector("tdx/dcap-qvl/tdx_quote"), "--rim", driver]).status == 2)
    }

    @Test("usage errors exit 2")
    func usage() throws {
        let quote = Self.vector("tdx/dcap-qvl/tdx_quote")
        #expect(try Self.run([quote]).status == 2)
        #expect(try Self.run(["--kind", "tdx", quote, "--cert-chain", quote]).status == 2)
        #expect(try Self.run(["--kind", "nvidia-gpu", quote]).status == 2)
        #expect(try Self.run(["--kind", "tdx", quote, "--report-data", "abc"]).status == 2)
        #expect(try Self.run(["--kind", "sgx", quote]).status == 2)
        #expect(try Self.run(["--kind", "tdx", "/nonexistent/quote"]).status == 2)
    }
}
