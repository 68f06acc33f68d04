import Foundation
import Sodium
import TestVectors
import Testing

@testable import Attestation

/// A real report with the certificates that verify it and a time inside their validity.
struct SNPCase: Sendable, CustomTestStringConvertible {
    let report: String
    let vek: String
    let chain: String
    let at: String
    var hex = false
    var testDescription: String { report }

    func reportBytes() throws -> [UInt8] {
        let raw = try TestVectors.bytes("sev-snp/" + report)
        return hex ? try #require(Hex.decode(spaced: String(decoding: raw, as: UTF8.self))) : raw
    }

    func vekBytes() throws -> [UInt8] {
        try CertificateFile.derCertificates(from: try TestVectors.bytes("sev-snp/" + vek))[0]
    }

    func chainBytes() throws -> [[UInt8]] {
        try chain.split(separator: "+").flatMap {
            try CertificateFile.derCertificates(from: try TestVectors.bytes("sev-snp/" + $0))
        }
    }
}

let snpCases: [SNPCase] = [
    SNPCase(
        report: "go-sev-guest/attestation.bin", vek: "go-sev-guest/vcek.der",
        chain: "amd-roots/go-sev-guest_ask_ark_milan.pem", at: "2022-09-24T01:00:00Z"),
    SNPCase(
        report: "virtee-sev/report_milan.hex", vek: "virtee-sev/vcek_milan.der",
        chain: "amd-roots/virtee-sev_milan_ask.pem+amd-roots/virtee-sev_milan_ark.pem", at: "2024-01-01T00:00:00Z",
        hex: true),
    SNPCase(
        report: "trustee/test-report.bin", vek: "trustee/test-vcek.der",
        chain: "amd-roots/trustee_milan_ask_ark_asvk.pem", at: "2024-01-01T00:00:00Z"),
    SNPCase(
        report: "trustee/test-vlek-report.bin", vek: "trustee/test-vlek.der",
        chain: "amd-roots/trustee_milan_ask_ark_asvk.pem", at: "2025-06-01T00:00:00Z"),
    SNPCase(
        report: "trustee/e2e-evidence.report.bin", vek: "trustee/e2e-evidence.vcek.der",
        chain: "amd-roots/trustee_genoa_ask_ark_asvk.pem", at: "2026-01-01T00:00:00Z"),
]

/// Expectations that accept exactly what `report` claims, so only the check under test can fail.
func matchingExpectations(for report: SEVSNPReport, kinds: [String] = ["sev-snp"]) -> Expectations {
    Expectations(
        reportData: report.reportData,
        policy: EvidencePolicy(
            measurements: [Hex.encode(report.measurement)],
            allowDebug: report.policy.debugAllowed, minimumTCB: report.reportedTCB.rawValue, vmpl: Int(report.vmpl)),
        measurements: [report.measurement])
}

func verifySNP(
    report: [UInt8], vek: [UInt8], chain: [[UInt8]], at: String, expectations: Expectations? = nil
) throws -> VerificationResult {
    let expected = try expectations ?? matchingExpectations(for: SEVSNPReport(bytes: report))
    return SEVSNPVerifier(chain: chain).verify(
        Evidence(kind: .sevSNP, report: report, certificates: [vek]), expectations: expected, now: TestVectors.date(at))
}

@Suite(.timeLimit(.minutes(1)))
struct SEVSNPVerifierTests {
    @Test(arguments: snpCases)
    func realReportPassesInsideValidity(_ c: SNPCase) throws {
        let result = try verifySNP(report: c.reportBytes(), vek: c.vekBytes(), chain: c.chainBytes(), at: c.at)
        #expect(result.passed, "\(result.failedCheck.map { "\($0.name): \($0.detail)" } ?? "")")
        #expect(
            result.checks.map(\.name) == [
                "policy-constraints", "report-format", "ark", "ask", "vek", "signature", "tcb-match", "report-data",
                "measurement", "debug",
                "vmpl", "minimum-tcb",
            ])
        #expect(
            result.trustedClaims?.measurement == Hex.encode(try SEVSNPReport(bytes: c.reportBytes()).measurement))
    }

    @Test func azureHCLReportPassesAndBindsUserData() throws {
        let hcl = try TestVectors.bytes("sev-snp/trustee-azure/hcl-report.bin")
        let certs = try CertificateFile.derCertificates(from: try TestVectors.bytes("sev-snp/trustee-azure/vcek.pem"))
        #expect(certs.count == 3)
        let report = try SEVSNPReport(bytes: Array(hcl[0x20..<0x4C0]))
        var expectations = matchingExpectations(for: report)
        expectations.reportData = [UInt8](repeating: 0, count: 64)  // the HCL JSON's user-data
        let evidence = Evidence(kind: .sevSNP, report: hcl, certificates: certs)
        let at = TestVectors.date("2025-01-01T00:00:00Z")
        let result = SEVSNPVerifier().verify(evidence, expectations: expectations, now: at)
        #expect(result.passed, "\(String(describing: result.failedCheck))")
        #expect(result.check(named: "hcl-binding")?.passed == true)

        var tampered = hcl
        tampered[0x6E0] &+= 1
        let refused = SEVSNPVerifier().verify(
            Evidence(kind: .sevSNP, report: tampered, certificates: certs), expectations: expectations, now: at)
        #expect(refused.failedCheck?.name == "hcl-binding")

        var tcb = hcl
        tcb[0x1A6] = 0
        let tcbRefused = SEVSNPVerifier().verify(
            Evidence(kind: .sevSNP, report: tcb, certificates: certs), expectations: expectations, now: at)
        #expect(tcbRefused.check(named: "tcb-match")?.passed == false)
        #expect(tcbRefused.check(named: "signature")?.passed == false)

        var otherUser = expectations
        otherUser.reportData[0] = 1
        #expect(SEVSNPVerifier().verify(evidence, expectations: otherUser, now: at).failedCheck?.name == "report-data")
    }

    @Test func parsesEveryFieldAsExpectedJSONSays() throws {
        struct Expected: Decodable {
            struct Entry: Decodable {
                let report: String
                let reportFormat: String
                let fields: [String: JSONValue]

                enum CodingKeys: String, CodingKey {
                    case report, fields
                    case reportFormat = "report_format"
                }
            }
            let reports: [Entry]
        }
        let expected = try JSONDecoder().decode(
            Expected.self, from: Data(try TestVectors.bytes("sev-snp/expected.json")))
        #expect(expected.reports.count == 6)
        for entry in expected.reports {
            var bytes = try TestVectors.bytes("sev-snp/" + entry.report)
            if entry.reportFormat == "hex" {
                bytes = try #require(Hex.decode(spaced: String(decoding: bytes, as: UTF8.self)))
            }
            if entry.reportFormat.hasPrefix("azure") { bytes = Array(bytes[0x20..<0x4C0]) }
            let r = try SEVSNPReport(bytes: bytes)
            let f = entry.fields
            #expect(f["version"]?.int == Int(r.version), "\(entry.report)")
            #expect(f["guest_svn"]?.int == Int(r.guestSVN))
            #expect(f["policy_int"]?.int == Int(r.policy.rawValue))
            #expect(f["vmpl"]?.int == Int(r.vmpl))
            #expect(f["signature_algo"]?.int == Int(r.signatureAlgorithm))
            #expect(f["platform_info"]?.string == "0x" + String(r.platformInfo, radix: 16))
            #expect(f["flags_0x48"]?.string == "0x" + String(r.keyInfo, radix: 16))
            for (name, value) in [
                ("family_id", r.familyID), ("image_id", r.imageID), ("report_data", r.reportData),
                ("measurement", r.measurement), ("host_data", r.hostData), ("id_key_digest", r.idKeyDigest),
                ("author_key_digest", r.authorKeyDigest), ("report_id", r.reportID),
                ("report_id_ma", r.reportIDMigrationAgent), ("chip_id", r.chipID),
            ] {
                #expect(f[name]?.string == Hex.encode(value), "\(entry.report) \(name)")
            }
            for (name, tcb) in [
                ("current_tcb", r.currentTCB), ("reported_tcb", r.reportedTCB), ("committed_tcb", r.committedTCB),
                ("launch_tcb", r.launchTCB),
            ] {
                let object = try #require(f[name]?.object)
                let c = tcb.components(for: .milan)
                #expect(object["u64"]?.uint64 == tcb.rawValue, "\(entry.report) \(name)")
                #expect(object["bootloader"]?.int == Int(c.bootloader))
                #expect(object["tee"]?.int == Int(c.tee))
                #expect(object["snp"]?.int == Int(c.snp))
                #expect(object["microcode"]?.int == Int(c.microcode))
            }
            #expect(f["current_version"]?.string == r.currentVersion.description)
            #expect(f["committed_version"]?.string == r.committedVersion.description)
            let decoded = try #require(f["policy_decoded"]?.object)
            #expect(decoded["debug_allowed"]?.bool == r.policy.debugAllowed)
            #expect(decoded["smt_allowed"]?.bool == r.policy.smtAllowed)
            #expect(decoded["abi_minor"]?.int == Int(r.policy.abiMinor))
            if let cpuid = f["cpuid_fam_mod_step"]?.array {
                let c = try #require(r.cpuid)
                #expect(cpuid.map(\.string) == [c.family, c.model, c.stepping].map { "0x" + String($0, radix: 16) })
            } else {
                #expect(r.cpuid == nil)
            }
        }
    }

    @Test func refusesWrongSizesAndVersions() throws {
        let good = try TestVectors.bytes("sev-snp/go-sev-guest/attestation.bin")
        for bad in [Array(good.dropLast()), good + [0], []] {
            #expect(throws: AttestationError.self) { try SEVSNPReport(bytes: bad) }
        }
        for version: UInt8 in [0, 1, 4, 5] {
            var other = good
            other[0] = version
            #expect(throws: AttestationError.self) { try SEVSNPReport(bytes: other) }
            let c = snpCases[0]
            let result = try verifySNP(
                report: other, vek: c.vekBytes(), chain: c.chainBytes(), at: c.at,
                expectations: matchingExpectations(for: SEVSNPReport(bytes: good)))
            #expect(result.failedCheck?.name == "report-format")
        }
    }

    // MARK: Must-fail cases from the source repositories

    @Test func reportByteFlipsBreakTheSignature() throws {
        let c = snpCases[1]  // virtee: byte 21 ^= 0x80
        let good = try c.reportBytes()
        var flipped = good
        flipped[21] ^= 0x80
        let result = try verifySNP(
            report: flipped, vek: c.vekBytes(), chain: c.chainBytes(), at: c.at,
            expectations: matchingExpectations(for: SEVSNPReport(bytes: flipped)))
        #expect(result.failedCheck?.name == "signature")

        let t = snpCases[2]  // trustee: byte 42 += 1
        var bumped = try t.reportBytes()
        bumped[42] &+= 1
        let r2 = try verifySNP(report: bumped, vek: t.vekBytes(), chain: t.chainBytes(), at: t.at)
        #expect(r2.failedCheck?.name == "signature")

        // Any signed byte, and the signature itself.
        for offset in stride(from: 0, to: SEVSNPReport.signedByteCount, by: 37) + [0x2A0, 0x2E8, 0x2D0] {
            var mutated = good
            mutated[offset] ^= 0x01
            guard let parsed = try? SEVSNPReport(bytes: mutated) else { continue }  // version byte
            let r = try verifySNP(
                report: mutated, vek: c.vekBytes(), chain: c.chainBytes(), at: c.at,
                expectations: matchingExpectations(for: parsed))
            #expect(r.check(named: "signature")?.passed == false, "offset \(offset)")
        }
    }

    @Test func tcbMutationFailsTheTCBCheck() throws {
        for c in [snpCases[2], snpCases[3]] {  // trustee: byte 384 (reported_tcb.bootloader) += 1
            var mutated = try c.reportBytes()
            mutated[384] &+= 1
            let result = try verifySNP(report: mutated, vek: c.vekBytes(), chain: c.chainBytes(), at: c.at)
            #expect(result.check(named: "tcb-match")?.passed == false)
            #expect(result.check(named: "tcb-match")?.detail.contains("bootloader") == true)
            #expect(result.check(named: "signature")?.passed == false)
        }
    }

    @Test func vcekByteFlipsBreakTheChain() throws {
        let v = snpCases[1]
        var vcek = try v.vekBytes()
        vcek[40] ^= 0xFF
        let r1 = try verifySNP(report: v.reportBytes(), vek: vcek, chain: v.chainBytes(), at: v.at)
        #expect(r1.failedCheck?.name == "vek")

        let t = snpCases[2]
        var vcek2 = try t.vekBytes()
        vcek2[42] &+= 1
        let r2 = try verifySNP(report: t.reportBytes(), vek: vcek2, chain: t.chainBytes(), at: t.at)
        #expect(r2.failedCheck?.name == "vek")
    }

    @Test func vcekUnderTheASVKInsteadOfTheASKFails() throws {
        let t = snpCases[2]
        let trusteeChain = try t.chainBytes()  // ASK, ARK, ASVK
        let names = try trusteeChain.map { try X509Certificate(derEncoded: $0).subjectCommonName }
        #expect(names == ["SEV-Milan", "ARK-Milan", "SEV-VLEK-Milan"])
        let result = try verifySNP(
            report: t.reportBytes(), vek: t.vekBytes(), chain: [trusteeChain[2], trusteeChain[1]], at: t.at)
        #expect(result.check(named: "ask")?.passed == true)
        #expect(result.failedCheck?.name == "vek")
    }

    @Test func vlekReportUnderTheVCEKChainFails() throws {
        let c = snpCases[3]
        let vcekChain = try CertificateFile.derCertificates(
            from: try TestVectors.bytes("sev-snp/amd-roots/go-sev-guest_ask_ark_milan.pem"))
        let result = try verifySNP(report: c.reportBytes(), vek: c.vekBytes(), chain: vcekChain, at: c.at)
        #expect(result.failedCheck?.name == "vek")
    }

    @Test func vcekReportSignedClaimIsCheckedAgainstTheCertificateKind() throws {
        // A VCEK-signed report presented with the VLEK (a valid chain, wrong key): refused.
        let vcekCase = snpCases[2]
        let vlekCase = snpCases[3]
        let result = try verifySNP(
            report: vcekCase.reportBytes(), vek: vlekCase.vekBytes(), chain: vlekCase.chainBytes(), at: vlekCase.at)
        #expect(result.failedCheck?.name == "vek")
        #expect(result.check(named: "signature")?.passed == false)
    }

    @Test func milanVCEKUnderGenoaOrTurinRootsFails() throws {
        let c = snpCases[0]
        for chain in ["go-sev-guest_ask_ark_genoa.pem", "go-sev-guest_ask_ark_turin_vcek.pem"] {
            let certs = try CertificateFile.derCertificates(from: try TestVectors.bytes("sev-snp/amd-roots/" + chain))
            // At a time when every one of these certificates is inside its validity.
            let result = try verifySNP(
                report: c.reportBytes(), vek: c.vekBytes(), chain: certs, at: "2025-01-01T00:00:00Z")
            #expect(result.check(named: "ark")?.passed == true, "\(chain)")
            #expect(result.failedCheck?.name == "vek", "\(chain)")
        }
    }

    @Test func turinVCEKChainsToTurinButNotMilan() throws {
        let turin = try TestVectors.bytes("sev-snp/virtee-sev/vcek_turin.der")
        let report = try snpCases[2].reportBytes()
        let at = "2025-01-01T00:00:00Z"
        let turinChain = try CertificateFile.derCertificates(
            from: try TestVectors.bytes("sev-snp/amd-roots/go-sev-guest_ask_ark_turin_vcek.pem"))
        let underTurin = try verifySNP(report: report, vek: turin, chain: turinChain, at: at)
        #expect(underTurin.check(named: "vek")?.passed == true)
        #expect(underTurin.failedCheck?.name == "signature")  // no Turin report exists; the Milan one is not its

        let milanChain = try snpCases[0].chainBytes()
        #expect(try verifySNP(report: report, vek: turin, chain: milanChain, at: at).failedCheck?.name == "vek")
    }

    @Test(arguments: ["trustee/test-vcek-invalid-legacy.der", "trustee/test-vcek-invalid-new.der"])
    func syntheticVCEKsParseButDoNotChain(_ file: String) throws {
        let der = try TestVectors.bytes("sev-snp/" + file)
        let certificate = try X509Certificate(derEncoded: der)
        let hwid = try #require(certificate.extensions["1.3.6.1.4.1.3704.1.4"])
        #expect(hwid.suffix(64) == (0..<64).map { UInt8($0) })
        let t = snpCases[2]
        let result = try verifySNP(report: t.reportBytes(), vek: der, chain: t.chainBytes(), at: t.at)
        #expect(result.failedCheck?.name == "vek")
    }

    @Test func expiredVLEKFailsAfterItsExpiry() throws {
        let c = snpCases[3]
        let result = try verifySNP(
            report: c.reportBytes(), vek: c.vekBytes(), chain: c.chainBytes(), at: "2025-12-11T00:00:00Z")
        #expect(result.failedCheck?.name == "vek")
        #expect(result.failedCheck?.detail.contains("expired") == true)
        let early = try verifySNP(
            report: c.reportBytes(), vek: c.vekBytes(), chain: c.chainBytes(), at: "2024-12-01T00:00:00Z")
        #expect(early.failedCheck?.name == "vek")
    }

    @Test func unpinnedOrMissingRootFails() throws {
        let c = snpCases[0]
        var chain = try c.chainBytes()  // ASK, ARK
        chain[1][chain[1].count - 10] ^= 0x01  // the ARK's signature: a different certificate, not pinned
        #expect(
            try verifySNP(report: c.reportBytes(), vek: c.vekBytes(), chain: chain, at: c.at).failedCheck?.name == "ark"
        )
        let noRoot = try verifySNP(report: c.reportBytes(), vek: c.vekBytes(), chain: [chain[0]], at: c.at)
        #expect(noRoot.failedCheck?.name == "ark")
        let noCertificates = SEVSNPVerifier().verify(
            Evidence(kind: .sevSNP, report: try c.reportBytes()),
            expectations: matchingExpectations(for: try SEVSNPReport(bytes: c.reportBytes())),
            now: TestVectors.date(c.at))
        #expect(noCertificates.failedCheck?.name == "ark")
        #expect(noCertificates.check(named: "vek")?.passed == false)
        #expect(noCertificates.check(named: "signature")?.passed == false)
        // Pins can be narrowed: trusting only Genoa refuses the Milan root.
        let genoaOnly = SEVSNPVerifier(
            chain: try c.chainBytes(),
            trustedRootFingerprints: SEVSNPVerifier.pinnedRootFingerprints.filter { $0.value == .genoa })
        let narrowed = genoaOnly.verify(
            Evidence(kind: .sevSNP, report: try c.reportBytes(), certificates: [try c.vekBytes()]),
            expectations: matchingExpectations(for: try SEVSNPReport(bytes: c.reportBytes())),
            now: TestVectors.date(c.at))
        #expect(narrowed.failedCheck?.name == "ark")
    }

    @Test func chainOutsideItsValidityFails() throws {
        let c = snpCases[0]
        let before = try verifySNP(
            report: c.reportBytes(), vek: c.vekBytes(), chain: c.chainBytes(), at: "2022-09-23T00:00:00Z")
        #expect(before.failedCheck?.name == "vek")
        let after = try verifySNP(
            report: c.reportBytes(), vek: c.vekBytes(), chain: c.chainBytes(), at: "2046-01-01T00:00:00Z")
        #expect(after.failedCheck?.name == "ark")
    }

    // MARK: Policy values (go-sev-guest tools/check/check_test.go)

    @Test func policyChecksRefuseWhatTheyMust() throws {
        let c = snpCases[0]
        let bytes = try c.reportBytes()
        let report = try SEVSNPReport(bytes: bytes)
        func refused(_ change: (inout Expectations) -> Void) throws -> String? {
            var e = matchingExpectations(for: report)
            change(&e)
            return try verifySNP(report: bytes, vek: c.vekBytes(), chain: c.chainBytes(), at: c.at, expectations: e)
                .failedCheck?.name
        }
        #expect(try refused { $0.reportData[63] = 0x01 } == "report-data")
        #expect(try refused { $0.measurements = [[UInt8](repeating: 0, count: 48)] } == "measurement")
        #expect(try refused { $0.measurements = [] } == "measurement")
        #expect(try refused { $0.policy.allowDebug = false } == "debug")  // policy 0xB0000 has bit 19 set
        #expect(try refused { $0.policy.vmpl = 1 } == "vmpl")
        #expect(try refused { $0.policy.vmpl = 4 } == "vmpl")
        #expect(try refused { $0.policy.minimumTCB = 4_901_323_769_462_652_931 } == "minimum-tcb")
        #expect(try refused { $0.policy.minimumTCB = 4_901_323_769_462_652_930 } == nil)
        // Component-wise: a larger u64 with a lower bootloader is still refused, and vice versa.
        #expect(try refused { $0.policy.minimumTCB = 0x0000_0000_0000_0003 } == "minimum-tcb")
        #expect(try refused { $0.policy.minimumTCB = 0x4300_0000_0000_0002 } == nil)
        #expect(try refused { $0.policy.minimumTCB = 0x4406_0000_0000_0000 } == "minimum-tcb")
    }

    @Test func releasedDebugDefaultsToForbidden() throws {
        let c = snpCases[0]
        let bytes = try c.reportBytes()
        let report = try SEVSNPReport(bytes: bytes)
        let e = Expectations(
            reportData: report.reportData,
            policy: EvidencePolicy(measurements: [Hex.encode(report.measurement)]),
            measurements: [report.measurement])
        let result = try verifySNP(report: bytes, vek: c.vekBytes(), chain: c.chainBytes(), at: c.at, expectations: e)
        #expect(result.failedCheck?.name == "debug")
    }

    @Test func certificateFilesReadPEMAndDERAndRefuseGarbage() throws {
        let pem = try TestVectors.bytes("sev-snp/amd-roots/trustee_milan_ask_ark_asvk.pem")
        #expect(try CertificateFile.derCertificates(from: pem).count == 3)
        let der = try TestVectors.bytes("sev-snp/go-sev-guest/vcek.der")
        #expect(try CertificateFile.derCertificates(from: der) == [der])
        #expect(throws: AttestationError.self) { try CertificateFile.derCertificates(from: Array("hello".utf8)) }
        #expect(throws: AttestationError.self) {
            try CertificateFile.derCertificates(from: Array("-----BEGIN CERTIFICATE-----\n!!\n".utf8))
        }
        #expect(throws: AttestationError.self) { try X509Certificate(derEncoded: [0x30, 0x03, 0x02, 0x01, 0x00]) }
        #expect(throws: AttestationError.self) { try X509Certificate(derEncoded: der + [0]) }
    }

    @Test func everyAMDRootAndIntermediateParsesAndChains() throws {
        for product in ["milan", "genoa", "turin"] {
            let certs = try CertificateFile.derCertificates(
                from: try TestVectors.bytes("sev-snp/amd-roots/trustee_\(product)_ask_ark_asvk.pem")
            )
            .map { try X509Certificate(derEncoded: $0) }
            let ark = try #require(certs.first { $0.isSelfIssued })
            #expect(
                SEVSNPVerifier.pinnedRootFingerprints[Hex.encode(ark.sha256Fingerprint)]?.rawValue.lowercased()
                    == product)
            for certificate in certs {
                #expect(certificate.signatureProblem(issuedBy: ark) == nil, "\(certificate.displayName)")
                guard case .rsaPSS(let p) = certificate.signatureAlgorithm else {
                    Issue.record("\(certificate.displayName) is not RSA-PSS")
                    continue
                }
                #expect(p.saltLength == 48)
            }
            // A certificate does not verify under a key that did not sign it.
            let intermediates = certs.filter { !$0.isSelfIssued }
            #expect(intermediates[0].signatureProblem(issuedBy: intermediates[1]) != nil)
        }
    }
}
