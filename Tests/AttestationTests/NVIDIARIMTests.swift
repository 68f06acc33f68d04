import Foundation
import Sodium
import TestVectors
import Testing

@testable import Attestation

/// NVIDIA's RIMs (nvtrust's test_no_gpu driver and VBIOS SWID tags, vendored): parsing, the
/// XML-DSig signature, and reference values in the GPU verifier.
@Suite(.timeLimit(.minutes(1))) struct NVIDIARIMTests {
    static let driverFile = "nvidia/nvtrust/Driver_RIM_test_no_gpu.swidtag"
    static let vbiosFile = "nvidia/nvtrust/1010_0200_882_96005E0001_test_no_gpu.swidtag"
    /// Inside both RIM signers' validity (2023-06-27 → 2025-06-26 and 2023-06-23 → 2025-06-22).
    static let signedAt = TestVectors.date("2025-01-01T00:00:00Z")

    static func driver() throws -> NVIDIARIM { try NVIDIARIM(bytes: try TestVectors.bytes(driverFile)) }
    static func vbios() throws -> NVIDIARIM { try NVIDIARIM(bytes: try TestVectors.bytes(vbiosFile)) }

    static func edited(_ file: String, _ edit: (String) -> String) throws -> NVIDIARIM {
        try NVIDIARIM(bytes: Array(edit(try TestVectors.text(file)).utf8))
    }

    @Test("the driver and VBIOS RIMs parse into their reference measurements")
    func parse() throws {
        let driver = try Self.driver()
        #expect(driver.version == "545.00")
        #expect(driver.product == "GH100")
        #expect(driver.measurements.count == 64)
        #expect(driver.measurements.filter(\.active).count == 21)
        let seven = try #require(driver.measurements.first { $0.index == 7 })
        #expect(seven.active)
        #expect(
            seven.values == [
                try #require(
                    Hex.decode(
                        spaced: "0e0ee161b59bf124ce6b6dca6efa7616d28077862c0e57dca7d5efd63d00eeed"
                            + "4851922941e846a38c464cbedbc168d9"))
            ])
        #expect(driver.measurements.filter { $0.values.count == 2 }.map(\.index) == [23, 24, 35])
        let vbios = try Self.vbios()
        #expect(vbios.version == "96.00.5E.00.01")
        #expect(vbios.measurements.filter(\.active).count == 12)
        #expect(vbios.measurements.first { $0.index == 12 }?.values.count == 4)
        // Together: 33 active blocks, keyed by SPDM block index (the RIM's index + 1).
        let references = try NVIDIARIM.referenceMeasurements([driver, vbios])
        #expect(references.count == 33)
        #expect(references["8"] == [Hex.encode(seven.values[0])])
        #expect(references["1"] != nil && references["0"] == nil)
    }

    @Test("both RIMs' XML-DSig signatures verify (C14N 1.1, ECDSA P-384) to the pinned CoRIM root")
    func signatureVerifies() throws {
        #expect(try Self.driver().signatureProblem(now: Self.signedAt) == nil)
        #expect(try Self.vbios().signatureProblem(now: Self.signedAt) == nil)
        // Serialisation the canonical form erases still verifies: attribute order and quotes,
        // an empty element written with an end tag, a character reference for a plain letter.
        let reserialised = try Self.edited(Self.driverFile) {
            $0.replacingOccurrences(
                of: #"<ns0:Resource type="Measurement" index="0" active="False" alternatives="1""#,
                with: #"<ns0:Resource  alternatives='1' active="False" index="0"   type="Measurement""#
            )
            .replacingOccurrences(
                of: #"name="Measurement_0" size="48"/>"#, with: #"name="Measur&#101;ment_0" size="48"></ns0:Resource>"#)
        }
        #expect(reserialised.signatureProblem(now: Self.signedAt) == nil)
    }

    @Test("an altered, re-dated or re-signed RIM is refused with the reason")
    func signatureRefuses() throws {
        let expired = try Self.driver().signatureProblem(now: TestVectors.date("2025-07-01T00:00:00Z"))
        #expect(expired?.contains("expired") == true, "\(expired ?? "nil")")
        let value = try Self.edited(Self.driverFile) {
            $0.replacingOccurrences(of: "0e0ee161b59bf124", with: "0e0ee161b59bf125")
        }
        #expect(value.signatureProblem(now: Self.signedAt)?.contains("digest does not match") == true)
        let activated = try Self.edited(Self.driverFile) {
            $0.replacingOccurrences(of: #"index="0" active="False""#, with: #"index="0" active="True""#)
        }
        #expect(activated.signatureProblem(now: Self.signedAt)?.contains("digest does not match") == true)
        let whitespace = try Self.edited(Self.driverFile) {
            $0.replacingOccurrences(of: "    </ns0:Payload>", with: "</ns0:Payload>")
        }
        #expect(whitespace.signatureProblem(now: Self.signedAt)?.contains("digest does not match") == true)
        let signature = try Self.edited(Self.driverFile) {
            $0.replacingOccurrences(of: "<ds:SignatureValue>/BgnH", with: "<ds:SignatureValue>/BgnI")
        }
        #expect(signature.signatureProblem(now: Self.signedAt)?.contains("does not verify") == true)
        let method = try Self.edited(Self.driverFile) {
            $0.replacingOccurrences(of: "xmldsig-more#ecdsa-sha384", with: "xmldsig-more#ecdsa-sha256")
        }
        #expect(method.signatureProblem(now: Self.signedAt)?.contains("is not ECDSA-SHA384") == true)
        // The VBIOS RIM's signature block on the driver RIM's content.
        let driverText = try TestVectors.text(Self.driverFile)
        let vbiosText = try TestVectors.text(Self.vbiosFile)
        let driverEnd = try #require(driverText.range(of: "<ds:Signature")).lowerBound
        let vbiosStart = try #require(vbiosText.range(of: "<ds:Signature")).lowerBound
        let swapped = try NVIDIARIM(bytes: Array((driverText[..<driverEnd] + vbiosText[vbiosStart...]).utf8))
        #expect(swapped.signatureProblem(now: Self.signedAt)?.contains("digest does not match") == true)
        let unsigned = try Self.edited(Self.driverFile) {
            String($0[..<$0.range(of: "<ds:Signature")!.lowerBound]) + "</SoftwareIdentity>"
        }
        #expect(unsigned.signatureProblem(now: Self.signedAt)?.contains("0 ds:Signature") == true)
    }

    @Test(
        "malformed RIMs are refused by name",
        arguments: [
            ("not XML", "root element"),
            ("<!-- c --><SoftwareIdentity/>", "comments"),
            ("<!DOCTYPE x><SoftwareIdentity/>", "DTDs"),
            ("<SoftwareIdentity xmlns=\"urn:other\" tagId=\"t\"/>", "SoftwareIdentity"),
            ("<SoftwareIdentity xmlns:a=\"urn:a\"><b:x/></SoftwareIdentity>", "prefix b is not declared"),
            ("<a:SoftwareIdentity xmlns:a=\"urn:a\" xmlns:b=\"urn:a\" a:x=\"1\" b:x=\"2\"/>", "two attributes"),
            ("<SoftwareIdentity xmlns:a=\"\"/>", "undeclares prefix a"),
        ])
    func malformedDocuments(_ input: (String, String)) {
        let error = #expect(throws: AttestationError.self) { try NVIDIARIM(bytes: Array(input.0.utf8)) }
        #expect(
            error.map { "\($0)".hasPrefix("RIM: ") && "\($0)".contains(input.1) } == true,
            "\(String(describing: error))")
    }

    @Test("malformed measurements are refused with the measurement named")
    func malformedMeasurements() throws {
        let cases: [(String, String, String)] = [
            (#"index="7" active="True""#, #"index="6" active="True""#, "index 6 appears twice"),
            (#"index="7" active="True""#, #"index="7" active="yes""#, "measurement 7: active is not True or False"),
            (#"index="23" active="True" alternatives="2""#, #"index="23" active="True" alternatives="3""#, "Hash2"),
            (
                #"index="7" active="True" alternatives="1""#, #"index="7" active="True" alternatives="0""#,
                "measurement 7: alternatives"
            ),
            ("ns2:Hash0=\"0e0ee161", "ns2:Hash0=\"0e0e", "measurement 7: Hash0 is not 48 bytes"),
            ("<ns0:Payload", "<ns0:Payload></ns0:Payload><ns0:Payload", "one Payload element, found 2"),
            ("</SoftwareIdentity>", "", "not closed"),
            (#"index="7""#, #"index="7" index="8""#, "appears twice"),
        ]
        for (find, replace, reason) in cases {
            let text = try TestVectors.text(Self.driverFile)
            guard let range = text.range(of: find) else {
                Issue.record("\(find) not in the RIM")
                continue
            }
            let bytes = Array(text.replacingCharacters(in: range, with: replace).utf8)
            let error = #expect(throws: AttestationError.self) { try NVIDIARIM(bytes: bytes) }
            #expect(error.map { "\($0)".contains(reason) } == true, "\(reason): \(String(describing: error))")
        }
        // A driver and VBIOS RIM must not both make one index active (nvtrust refuses it too).
        #expect(throws: AttestationError.self) {
            try NVIDIARIM.referenceMeasurements([try Self.driver(), try Self.driver()])
        }
    }

    @Test("the vendored Hopper report (driver 550.90.07) against the 545.00 RIMs is refused by gpu-measurements")
    func realReportAgainstOtherRIMs() throws {
        let report = try #require(
            Hex.decode(spaced: try TestVectors.text("nvidia/nvtrust/hopperAttestationReport.txt")))
        let chain = try CertificateFile.derCertificates(
            from: try TestVectors.bytes("nvidia/nvtrust/hopperCertChain.txt"))
        let verifier = try NVIDIAGPUVerifier(rims: [try Self.driver(), try Self.vbios()])
        let result = verifier.verify(
            Evidence(kind: .nvidiaGPU, report: report, certificates: chain),
            expectations: Expectations(
                reportData: [], policy: EvidencePolicy(measurements: []), measurements: [],
                gpuNonce: Hex.decode(spaced: NVIDIAGPUVerifierTests.nvtrustNonce)),
            now: Self.signedAt)
        #expect(result.checks.filter { !$0.passed }.map(\.name) == ["gpu-measurements"], "\(result.renderedText())")
        #expect(result.check(named: "gpu-rim")?.passed == true)
        // The blocks that differ, as an independent reading (Python ElementTree over the same
        // files, RIM index + 1 = SPDM block) finds them.
        let expected = [2, 3, 4, 8, 10, 12, 22, 23, 26, 27, 28, 30, 31, 32, 33, 35, 37, 38, 40, 41]
        let detail = try #require(result.check(named: "gpu-measurements")?.detail)
        let named = detail.split(separator: ";").compactMap {
            $0.trimmingCharacters(in: .whitespaces).split(separator: " ").dropFirst().first.flatMap { Int($0) }
        }
        #expect(named == expected, "\(detail)")
    }

    @Test("a report matching the RIMs is accepted; one block off, or an expired RIM signer, is refused by name")
    func rimReferenceValues() throws {
        let device = TestGPUDevice()
        let rims = [try Self.driver(), try Self.vbios()]
        var facts = TestGPUDevice.Facts()
        // Every block anything; then each active block one of its reference values (the last
        // alternative, to show any one is accepted).
        facts.blocks = Dictionary(
            uniqueKeysWithValues: (1...64).map { (UInt8($0), [UInt8](repeating: 0xab, count: 48)) })
        for rim in rims {
            for measurement in rim.measurements where measurement.active {
                facts.blocks[UInt8(measurement.index + 1)] = measurement.values.last!
            }
        }
        let accepted = device.verify(facts, rims: rims)
        #expect(accepted.passed, "\(accepted.renderedText())")
        #expect(accepted.check(named: "gpu-measurements")?.detail.contains("33 measurement blocks") == true)

        var off = facts
        off.blocks[8]![0] ^= 0x01
        let refused = device.verify(off, rims: rims)
        #expect(refused.checks.filter { !$0.passed }.map(\.name) == ["gpu-measurements"])
        #expect(refused.check(named: "gpu-measurements")?.detail.contains("block 8 ") == true)

        var missing = facts
        missing.blocks[8] = nil
        #expect(
            device.verify(missing, rims: rims).check(named: "gpu-measurements")?.detail.contains("not in the report")
                == true)

        let late = device.verifier(rims: rims).verify(
            device.evidence(facts),
            expectations: Expectations(
                reportData: [], policy: EvidencePolicy(measurements: []), measurements: [], gpuNonce: facts.nonce),
            now: TestVectors.date("2025-07-01T00:00:00Z"))
        #expect(late.checks.filter { !$0.passed }.map(\.name) == ["gpu-rim"], "\(late.renderedText())")
    }

    @Test("a policy's referenceManifests become its reference values, failing closed on a bad or unsigned RIM")
    func policyManifests() throws {
        let read: (String) throws -> [UInt8] = { try TestVectors.bytes($0) }
        let policy = NVIDIAGPUPolicy(referenceManifests: [Self.driverFile, Self.vbiosFile])
        let resolved = try policy.resolvingManifests(now: Self.signedAt, read: read)
        #expect(resolved.referenceMeasurements == (try NVIDIARIM.referenceMeasurements([Self.driver(), Self.vbios()])))
        var withExplicit = policy
        withExplicit.referenceMeasurements = ["64": ["00"]]
        #expect(try withExplicit.resolvingManifests(now: Self.signedAt, read: read).referenceMeasurements?.count == 34)
        withExplicit.referenceMeasurements = ["8": ["00"]]
        #expect(throws: AttestationError.self) { try withExplicit.resolvingManifests(now: Self.signedAt, read: read) }
        let expired = #expect(throws: AttestationError.self) {
            try policy.resolvingManifests(now: TestVectors.date("2025-07-01T00:00:00Z"), read: read)
        }
        #expect(expired.map { "\($0)".contains(Self.driverFile) } == true)
        let missing = NVIDIAGPUPolicy(referenceManifests: ["nvidia/nvtrust/absent.swidtag"])
        #expect(throws: AttestationError.self) { try missing.resolvingManifests(now: Self.signedAt, read: read) }
        let notRIM = NVIDIAGPUPolicy(referenceManifests: ["nvidia/nvtrust/hopperCertChain.txt"])
        #expect(throws: AttestationError.self) { try notRIM.resolvingManifests(now: Self.signedAt, read: read) }
        #expect(try NVIDIAGPUPolicy().resolvingManifests(now: Self.signedAt, read: read) == NVIDIAGPUPolicy())
    }
}

/// The mutation run has a suite of its own: it computes for seconds, and the scale group it runs in
/// (`Scripts/test.sh`) gives it a longer limit than the one-minute unit suites.
@Suite(.timeLimit(.minutes(5))) struct NVIDIARIMMutationTests {
    @Test("1,000 mutated RIMs each end in a verdict; one that still verifies reads the same measurements")
    func mutations() throws {
        var generator = SystemRandomNumberGenerator()
        let original = try TestVectors.bytes(NVIDIARIMTests.driverFile)
        let reference = try NVIDIARIMTests.driver().measurements
        let alphabet = Array("<>/=\"' &;#x:ns0ab12\n".utf8)
        for _ in 0..<1_000 {
            var bytes = original
            switch Int.random(in: 0..<3, using: &generator) {
            case 0:
                for _ in 0..<Int.random(in: 1...4, using: &generator) {
                    bytes[Int.random(in: 0..<bytes.count, using: &generator)] = alphabet.randomElement(
                        using: &generator)!
                }
            case 1: bytes = Array(bytes.prefix(Int.random(in: 0..<bytes.count, using: &generator)))
            default:
                let at = Int.random(in: 0..<bytes.count, using: &generator)
                bytes.removeSubrange(at..<min(bytes.count, at + Int.random(in: 1...16, using: &generator)))
            }
            guard let rim = try? NVIDIARIM(bytes: bytes) else { continue }
            if rim.signatureProblem(now: NVIDIARIMTests.signedAt) == nil {
                #expect(rim.measurements == reference, "a changed RIM verified")
            }
        }
    }
}
