import Foundation
import Testing

@testable import Attestation

/// The GPU checks no public vector can refuse (`gpu-fwid`, `gpu-cc-mode`): a throwaway NVIDIA-like
/// device signs SPDM evidence, the well-formed report is accepted, then one fact at a time is
/// changed and the named check refuses.
@Suite(.timeLimit(.minutes(1))) struct NVIDIAGPURefusalTests {
    let device = TestGPUDevice()

    static func failed(_ result: VerificationResult) -> [String] { result.checks.filter { !$0.passed }.map(\.name) }

    @Test("the well-formed report from the test device is accepted, and refused under the pinned root")
    func wellFormedAccepted() {
        let result = device.verify(.init())
        #expect(result.passed, "\(result.renderedText())")
        #expect(result.check(named: "gpu-cc-mode")?.detail.contains("SPT") == true)
        let pinned = NVIDIAGPUVerifier().verify(
            device.evidence(.init()),
            expectations: Expectations(
                reportData: [], policy: EvidencePolicy(measurements: []), measurements: [],
                gpuNonce: TestGPUDevice.Facts().nonce),
            now: TestGPUDevice.now)
        #expect(pinned.check(named: "gpu-chain")?.passed == false)
    }

    @Test("gpu-fwid refuses a report whose FWID is not the leaf certificate's, and a leaf without one")
    func fwid() {
        var facts = TestGPUDevice.Facts()
        facts.fwid[47] ^= 0x01
        let mismatch = device.verify(facts)
        #expect(Self.failed(mismatch) == ["gpu-fwid"], "\(mismatch.renderedText())")
        #expect(mismatch.check(named: "gpu-fwid")?.detail.contains("differs") == true)

        var bare = TestGPUDevice.Facts()
        bare.certificateFWID = nil
        let missing = device.verify(bare)
        #expect(Self.failed(missing) == ["gpu-fwid"], "\(missing.renderedText())")
        #expect(missing.check(named: "gpu-fwid")?.detail.contains("has no FWID") == true)
    }

    @Test("gpu-cc-mode accepts SPT, MPT and PPCIE and refuses a signed feature flag naming no CC mode")
    func ccMode() {
        for (flag, mode) in [([UInt8]([0x00, 0x00]), "SPT"), ([0x01, 0x00], "MPT"), ([0x02, 0x00], "PPCIE")] {
            var facts = TestGPUDevice.Facts()
            facts.featureFlag = flag
            let result = device.verify(facts)
            #expect(result.passed, "\(mode): \(result.renderedText())")
            #expect(result.check(named: "gpu-cc-mode")?.detail.contains(mode) == true)
        }
        for flag: [UInt8] in [[0x03, 0x00], [0x00, 0x01], [0xff, 0xff, 0xff, 0xff, 0xff]] {
            var facts = TestGPUDevice.Facts()
            facts.featureFlag = flag
            let result = device.verify(facts)
            #expect(Self.failed(result) == ["gpu-cc-mode"], "\(flag): \(result.renderedText())")
        }
    }
}
