import Crypto
import Foundation
import Sodium

@testable import Attestation

/// An NVIDIA GPU's evidence as a node sends it: the SPDM GET_MEASUREMENTS request and
/// MEASUREMENTS response, and its device certificate chain as text (PEM, as nvtrust hands it out),
/// through to the verifier's verdict.
///
/// Input: `FuzzInput.frames` — the report bytes, then the certificate chain text; bit 6 of the
/// first byte skips the verifier (decoders only: many more inputs a second).
///
/// What must hold: nothing crashes; a decoded report encodes back to the very bytes it was read
/// from (the opaque fields in any order, NUL padding after the signature); a chain re-encoded as
/// canonical PEM decodes to the same certificates; the verifier always reaches a verdict with
/// every check named; and it accepts only reports whose signed bytes are those of a genuine
/// vendored report (forging one would need the GPU's device key).
private let now = try! Date("2025-01-01T00:00:00Z", strategy: .iso8601)

/// SHA-384 of the signed bytes (request and response) of each report under Tests/Fixtures/vectors/nvidia.
private let genuine: Set<String> = [
    "c4c39539573db26ed39893e0f7c657b0f530287676d10803170ff3fb8770797420bd807aec034071abba9a678d88c35a",  // nvtrust
    "a2444e67102fd2a04068b03d46b1c04fe72bfa2199dff332732064d712596ac53ac9536e557be85a7b199eec869d14db",  // trustee
]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = FuzzInput.bytes(data, size)
    let frames = FuzzInput.frames(bytes)
    guard let reportBytes = frames.first else { return 0 }
    let chainText = frames.count > 1 ? frames[1] : []

    let report = try? SPDMMeasurements(bytes: reportBytes)
    if let report { checkEncoding(report, of: reportBytes) }
    let chain = (try? CertificateFile.derCertificates(from: chainText)) ?? []
    if !chain.isEmpty, chainText.first != 0x30 || String(decoding: chainText, as: UTF8.self).contains("-----BEGIN") {
        checkPEMRoundTrip(chain)
    }

    guard bytes[0] & 0x40 == 0 else { return 0 }
    // The expected nonce is the report's own, so only authenticity and format decide.
    let expectations = Expectations(
        reportData: [], policy: EvidencePolicy(measurements: []), measurements: [],
        gpuNonce: report?.requestNonce ?? [UInt8](repeating: 0, count: 32))
    let result = NVIDIAGPUVerifier().verify(
        Evidence(kind: .nvidiaGPU, report: reportBytes, certificates: chain), expectations: expectations, now: now)
    let format = result.check(named: NVIDIAGPUVerifier.CheckName.reportFormat)
    precondition(format?.passed == (report != nil), "the format verdict disagrees with the decoder")
    if let report {
        for name in [
            NVIDIAGPUVerifier.CheckName.chain, NVIDIAGPUVerifier.CheckName.signature,
            NVIDIAGPUVerifier.CheckName.nonce, NVIDIAGPUVerifier.CheckName.fwid, NVIDIAGPUVerifier.CheckName.ccMode,
            NVIDIAGPUVerifier.CheckName.measurements, NVIDIAGPUVerifier.CheckName.versions,
        ] {
            precondition(result.check(named: name) != nil, "no verdict on \(name)")
        }
        if result.passed {
            let digest = Hex.encode(SHA384.hash(data: report.signedBytes))
            precondition(genuine.contains(digest), "a report that is not a vendored genuine one was accepted")
        }
    } else {
        precondition(!result.passed, "an undecodable report was accepted")
    }
    return 0
}

/// The report's fields, laid out again, are the bytes it was decoded from.
private func checkEncoding(_ report: SPDMMeasurements, of bytes: [UInt8]) {
    func u16(_ value: Int) -> [UInt8] { [UInt8(value & 0xff), UInt8(value >> 8 & 0xff)] }
    let signed = report.signedBytes
    precondition(Array(bytes.prefix(signed.count)) == signed, "signed bytes are not the report's prefix")
    precondition(Array(signed[4..<36]) == report.requestNonce, "request nonce is not at offset 4")
    let record = report.blocks.flatMap { block -> [UInt8] in
        [block.index, 0x01] + u16(3 + block.value.count) + [block.valueType] + u16(block.value.count) + block.value
    }
    let count = UInt8(report.blocks.count)
    let length = [UInt8(record.count & 0xff), UInt8(record.count >> 8 & 0xff), UInt8(record.count >> 16)]
    let start = SPDMMeasurements.requestSize + 4
    precondition(
        Array(signed[start..<start + 4]) == [count] + length, "block count and record length do not re-encode")
    var offset = start + 4
    precondition(Array(signed[offset..<offset + record.count]) == record, "blocks do not re-encode to the record")
    offset += record.count
    precondition(Array(signed[offset..<offset + 32]) == report.responderNonce, "responder nonce misplaced")
    offset += 32
    let opaqueLength = report.opaque.values.reduce(0) { $0 + 4 + $1.count }
    precondition(Array(signed[offset..<offset + 2]) == u16(opaqueLength), "opaque length does not re-encode")
    offset += 2
    var opaque = Array(signed[offset...])
    for (type, value) in report.opaque {
        // Each field appears once, somewhere: find it as type ‖ size ‖ value and cut it out.
        let field = u16(Int(type)) + u16(value.count) + value
        var cursor = 0
        var found = false
        while cursor < opaque.count {
            let size = Int(opaque[cursor + 2]) | Int(opaque[cursor + 3]) << 8
            if Array(opaque[cursor..<cursor + 4 + size]) == field {
                opaque.removeSubrange(cursor..<cursor + 4 + size)
                found = true
                break
            }
            cursor += 4 + size
        }
        precondition(found, "opaque field \(type) does not re-encode")
    }
    precondition(opaque.isEmpty, "opaque data holds bytes no field accounts for")
    precondition(
        Array(bytes[signed.count..<signed.count + SPDMMeasurements.signatureSize]) == report.signature,
        "signature is not right after the opaque data")
    precondition(
        signed.count + SPDMMeasurements.signatureSize + report.trailingPadding == bytes.count, "padding miscounted")
}

/// DER certificates written as canonical PEM read back as the same certificates.
private func checkPEMRoundTrip(_ chain: [[UInt8]]) {
    let text = chain.map {
        "-----BEGIN CERTIFICATE-----\n" + Data($0).base64EncodedString(options: .lineLength64Characters)
            + "\n-----END CERTIFICATE-----\n"
    }.joined()
    precondition(
        (try? CertificateFile.derCertificates(from: Array(text.utf8))) == chain, "PEM chain did not round-trip")
}
