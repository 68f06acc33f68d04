import Crypto
public import Foundation

/// A directory of dated collateral for offline verification: Intel TDX collateral per FMSPC, in
/// the PCCS / dcap-qvl JSON layout (`tdx-<fmspc>.json`). Verification reads only this directory;
/// nothing here fetches. `sealpipe collateral import` fills it, `sealpipe collateral status`
/// shows each item's issue and next-update dates.
///
/// Staleness is decided where it matters, at verification: an item past its nextUpdate fails
/// its check, and the policy's `maximumCollateralAge` bounds how old an item may be.
public struct CollateralCache: Sendable {
    public let directory: URL

    public init(directory: URL) {
        self.directory = directory
    }

    /// One cached item and the dates that decide whether it is still usable.
    public struct Item: Sendable, Hashable {
        public var file: String
        public var fmspc: String
        /// (what, issued, next update) for the TCB Info, QE Identity, PCK CRL and root CA CRL.
        public var dates: [(String, Date?, Date?)] {
            zip(zip(names, issued), nextUpdates).map { ($0.0, $0.1, $1) }
        }
        var names: [String]
        var issued: [Date?]
        var nextUpdates: [Date?]

        /// The earliest next update: after it, some part is stale.
        public var expires: Date? { nextUpdates.contains(nil) ? nil : nextUpdates.compactMap { $0 }.min() }
        /// The oldest issue date.
        public var oldest: Date? { issued.contains(nil) ? nil : issued.compactMap { $0 }.min() }

        public static func == (a: Item, b: Item) -> Bool { a.file == b.file && a.fmspc == b.fmspc }
        public func hash(into hasher: inout Hasher) { hasher.combine(file) }
    }

    /// Every TDX collateral file in the directory. A file that does not parse is an error naming
    /// it: a corrupt cache must not silently shrink to "no collateral".
    public func tdxCollateral() throws(AttestationError) -> [TDXCollateral] {
        try files().map { url throws(AttestationError) in
            do {
                return try TDXCollateral(json: [UInt8](try Data(contentsOf: url)))
            } catch let error as AttestationError {
                throw .malformed(what: url.path, reason: "\(error)")
            } catch {
                throw .io(path: url.path, reason: "cannot read (\(error.localizedDescription))")
            }
        }
    }

    /// What the cache holds, with dates.
    public func items() throws(AttestationError) -> [Item] {
        let collaterals = try tdxCollateral()
        return zip(try files(), collaterals).map { url, collateral in Self.item(collateral, file: url.lastPathComponent)
        }
    }

    /// Checks `collateral` (Intel signatures on every part, as of each part's own issue date) and
    /// stores it under its FMSPC, replacing an older item for the same platform. Returns the item.
    @discardableResult
    public func importTDX(_ collateral: TDXCollateral) throws(AttestationError) -> Item {
        let item = Self.item(collateral, file: "")
        guard !item.fmspc.isEmpty else { throw .malformed(what: "collateral", reason: "TCB Info has no FMSPC") }
        if let problem = Self.signatureProblem(collateral) {
            throw .refused("collateral for FMSPC \(item.fmspc): \(problem)")
        }
        let name = "tdx-\(item.fmspc).json"
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let url = directory.appendingPathComponent(name)
            let temporary = directory.appendingPathComponent(".\(name).tmp")
            try Data(collateral.json()).write(to: temporary)
            if FileManager.default.fileExists(atPath: url.path) {
                _ = try FileManager.default.replaceItemAt(url, withItemAt: temporary)
            } else {
                try FileManager.default.moveItem(at: temporary, to: url)
            }
        } catch {
            throw .io(
                path: directory.appendingPathComponent(name).path,
                reason: "cannot write (\(error.localizedDescription))")
        }
        var stored = item
        stored.file = name
        return stored
    }

    /// The AMD CRLs in the cache (`amd-*.crl`, DER); their ARK signatures are checked at
    /// verification, where the ARK is known.
    public func amdCRLs() throws(AttestationError) -> [[UInt8]] {
        guard FileManager.default.fileExists(atPath: directory.path) else { return [] }
        do {
            return try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
                .filter { $0.lastPathComponent.hasPrefix("amd-") && $0.pathExtension == "crl" }
                .sorted { $0.lastPathComponent < $1.lastPathComponent }
                .map { [UInt8](try Data(contentsOf: $0)) }
        } catch {
            throw .io(path: directory.path, reason: "cannot read AMD CRLs (\(error.localizedDescription))")
        }
    }

    /// Stores an AMD CRL (DER or PEM) as `amd-<issuer CN>.crl`, replacing an older one from the
    /// same ARK. Returns the file name and the CRL's next update.
    @discardableResult
    public func importAMDCRL(_ bytes: [UInt8]) throws(AttestationError) -> (file: String, nextUpdate: Date?) {
        let der = TDXCollateral.pemBlock(String(decoding: bytes, as: UTF8.self), label: "X509 CRL") ?? bytes
        let crl = try CertificateRevocationList(derEncoded: der)
        guard let issuer = crl.issuerCommonName, issuer.hasPrefix("ARK-"),
            issuer.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" })
        else { throw .refused("\(crl.displayName) is not an AMD ARK CRL") }
        let name = "amd-\(issuer).crl"
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let url = directory.appendingPathComponent(name)
            if FileManager.default.fileExists(atPath: url.path) { try FileManager.default.removeItem(at: url) }
            try Data(der).write(to: url, options: .atomic)
        } catch {
            throw .io(
                path: directory.appendingPathComponent(name).path,
                reason: "cannot write (\(error.localizedDescription))")
        }
        return (name, crl.nextUpdate)
    }

    private func files() throws(AttestationError) -> [URL] {
        guard FileManager.default.fileExists(atPath: directory.path) else { return [] }
        do {
            return try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
                .filter { $0.lastPathComponent.hasPrefix("tdx-") && $0.pathExtension == "json" }
                .sorted { $0.lastPathComponent < $1.lastPathComponent }
        } catch {
            throw .io(path: directory.path, reason: "cannot list (\(error.localizedDescription))")
        }
    }

    static func item(_ collateral: TDXCollateral, file: String) -> Item {
        let tcb = try? JSONDecoder().decode(IntelTCBInfo.self, from: Data(collateral.tcbInfo))
        let qe = try? JSONDecoder().decode(IntelQEIdentity.self, from: Data(collateral.qeIdentity))
        let pck = try? CertificateRevocationList(derEncoded: collateral.pckCRL)
        let root = try? CertificateRevocationList(derEncoded: collateral.rootCACRL)
        return Item(
            file: file, fmspc: tcb?.fmspc.lowercased() ?? "",
            names: ["TCB Info", "QE Identity", "PCK CRL", "root CA CRL"],
            issued: [
                tcb.flatMap { IntelDate.parse($0.issueDate) }, qe.flatMap { IntelDate.parse($0.issueDate) },
                pck?.thisUpdate, root?.thisUpdate,
            ],
            nextUpdates: [
                tcb.flatMap { IntelDate.parse($0.nextUpdate) }, qe.flatMap { IntelDate.parse($0.nextUpdate) },
                pck?.nextUpdate, root?.nextUpdate,
            ])
    }

    /// Signature checks only, each at its own issue date, so an import of older collateral for
    /// an audit still works; freshness is judged at verification time.
    static func signatureProblem(_ collateral: TDXCollateral) -> String? {
        let item = item(collateral, file: "")
        let issuedTimes = item.issued.compactMap { $0 }
        guard let at = item.oldest, issuedTimes.count == 4 else {
            return "a part has no issue date (TCB Info, QE Identity or a CRL does not decode)"
        }
        let root = TDXVerifier.intelRoot
        guard let rootCRL = try? CertificateRevocationList(derEncoded: collateral.rootCACRL),
            rootCRL.signatureProblem(issuedBy: root) == nil
        else { return "the root CA CRL is not signed by the Intel SGX Root CA" }
        for (what, pem, bytes, signature) in [
            ("TCB Info", collateral.tcbInfoIssuerChain, collateral.tcbInfo, collateral.tcbInfoSignature),
            ("QE Identity", collateral.qeIdentityIssuerChain, collateral.qeIdentity, collateral.qeIdentitySignature),
        ] {
            let issued = what == "TCB Info" ? issuedTimes[0] : issuedTimes[1]
            switch CollateralEvaluation.chain(
                pem, root: root, now: issued, crls: [rootCRL], what: "\(what) issuer chain")
            {
            case .failure(let error): return error.description
            case .success(let certificates):
                guard case .p256(let key)? = certificates.first?.ecdsaKey,
                    let parsed = try? P256.Signing.ECDSASignature(rawRepresentation: signature),
                    key.isValidSignature(parsed, for: SHA256.hash(data: bytes))
                else { return "\(what) signature does not verify" }
            }
        }
        switch CollateralEvaluation.chain(
            collateral.pckCRLIssuerChain, root: root, now: at, crls: [rootCRL], what: "PCK CRL issuer chain")
        {
        case .failure(let error): return error.description
        case .success(let certificates):
            guard let issuer = certificates.first,
                let crl = try? CertificateRevocationList(derEncoded: collateral.pckCRL),
                crl.signatureProblem(issuedBy: issuer) == nil
            else { return "the PCK CRL is not signed by its issuer chain's CA" }
        }
        return nil
    }
}
