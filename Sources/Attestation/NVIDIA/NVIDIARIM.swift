import Sodium

/// An NVIDIA reference integrity manifest (RIM): the SWID tag (ISO/IEC 19770-2) NVIDIA publishes
/// for each driver and VBIOS, listing the golden value of every measurement block, as nvtrust's
/// local verifier reads it: `<Payload>` holds one `<Resource type="Measurement">` per block with
/// its `index` (0-based), `active` flag, `alternatives` count and SHA-384 values `Hash0`…`HashN-1`.
///
/// Reading is strict: a missing or repeated index, an `active` that is not `True`/`False`, a
/// missing alternative or a value of the wrong size is an error naming the resource. The XML-DSig
/// signature is checked separately (`signatureProblem(root:now:)`).
public struct NVIDIARIM: Sendable {
    static let swidNamespace = "http://standards.iso.org/iso/19770/-2/2015/schema.xsd"
    static let sha384Namespace = "http://www.w3.org/2001/04/xmlenc#sha384"
    static let maximumAlternatives = 64

    /// One measurement block's reference values.
    public struct Measurement: Sendable, Hashable {
        /// The RIM's 0-based index; the SPDM block index is one more.
        public let index: Int
        public let active: Bool
        public let name: String
        /// Accepted values (each `size` bytes).
        public let values: [[UInt8]]
    }

    /// `Meta/@colloquialVersion`: the driver ("545.00") or VBIOS ("96.00.5E.00.01") version.
    public let version: String
    /// `SoftwareIdentity/@name` and `Meta/@product` ("GH100").
    public let product: String
    public let tagID: String
    /// By index, in index order.
    public let measurements: [Measurement]
    let document: RIMXML

    public init(bytes: [UInt8]) throws(AttestationError) {
        func bad(_ reason: String) -> AttestationError { .malformed(what: "RIM", reason: reason) }
        document = try RIMXML(bytes: bytes)
        let root = document.root
        var namespaces = root.declarations
        func namespace(of element: RIMXML.Element, above: [String: String]) -> String? {
            var scope = above
            for (prefix, uri) in element.declarations { scope[prefix] = uri }
            return scope[element.prefix]
        }
        guard root.localName == "SoftwareIdentity", namespace(of: root, above: [:]) == Self.swidNamespace else {
            throw bad("the root element is not an ISO/IEC 19770-2 SoftwareIdentity")
        }
        func children(_ localName: String) -> [RIMXML.Element] {
            root.elements.filter {
                $0.localName == localName && namespace(of: $0, above: namespaces) == Self.swidNamespace
            }
        }
        guard let tagID = root.attribute("tagId"), !tagID.isEmpty else { throw bad("SoftwareIdentity has no tagId") }
        self.tagID = tagID
        let metas = children("Meta")
        guard metas.count == 1, let version = metas[0].attribute("colloquialVersion") else {
            throw bad("expected one Meta element with a colloquialVersion")
        }
        self.version = version
        product = metas[0].attribute("product") ?? root.attribute("name") ?? "?"

        let payloads = children("Payload")
        guard payloads.count == 1 else { throw bad("expected one Payload element, found \(payloads.count)") }
        let payload = payloads[0]
        for (prefix, uri) in payload.declarations { namespaces[prefix] = uri }
        var measurements: [Int: Measurement] = [:]
        for (position, resource) in payload.elements.enumerated() {
            let place = "Payload resource \(position + 1)"
            guard resource.localName == "Resource",
                namespace(of: resource, above: namespaces) == Self.swidNamespace,
                resource.attribute("type") == "Measurement"
            else { throw bad("\(place) is not a Resource of type Measurement") }
            guard let indexText = resource.attribute("index"), let index = Int(indexText), (0...254).contains(index)
            else { throw bad("\(place) has no index from 0 to 254") }
            let active: Bool
            switch resource.attribute("active") {
            case "True": active = true
            case "False": active = false
            default: throw bad("measurement \(index): active is not True or False")
            }
            guard let countText = resource.attribute("alternatives"), let count = Int(countText),
                (1...Self.maximumAlternatives).contains(count)
            else { throw bad("measurement \(index): alternatives is not 1 to \(Self.maximumAlternatives)") }
            guard let sizeText = resource.attribute("size"), let size = Int(sizeText), size == 48 else {
                throw bad("measurement \(index): size is not 48 (SHA-384)")
            }
            // The hash attributes are named by whichever prefixes are bound to the SHA-384 namespace.
            var scope = namespaces
            for (prefix, uri) in resource.declarations { scope[prefix] = uri }
            let hashPrefixes = scope.filter { $0.value == Self.sha384Namespace && !$0.key.isEmpty }.map(\.key)
            var values: [[UInt8]] = []
            for alternative in 0..<count {
                let texts = hashPrefixes.compactMap { resource.attribute("\($0):Hash\(alternative)") }
                guard texts.count == 1, let text = texts.first else {
                    throw bad("measurement \(index): expected one Hash\(alternative) in the SHA-384 namespace")
                }
                guard let value = Hex.decode(spaced: text), value.count == size else {
                    throw bad("measurement \(index): Hash\(alternative) is not \(size) bytes of hex")
                }
                values.append(value)
            }
            guard measurements[index] == nil else { throw bad("measurement index \(index) appears twice") }
            measurements[index] = Measurement(
                index: index, active: active, name: resource.attribute("name") ?? "", values: values)
        }
        guard !measurements.isEmpty else { throw bad("the Payload lists no measurement") }
        self.measurements = measurements.values.sorted { $0.index < $1.index }
    }

    /// The reference values of a driver RIM and a VBIOS RIM together, as the GPU policy's
    /// `referenceMeasurements` (SPDM block index, 1-based → accepted hex values): every active
    /// measurement of either. Refused, as nvtrust refuses it, when both make the same index active.
    public static func referenceMeasurements(_ rims: [NVIDIARIM]) throws(AttestationError) -> [String: [String]] {
        var result: [String: [String]] = [:]
        var source: [Int: String] = [:]
        for rim in rims {
            for measurement in rim.measurements where measurement.active {
                if let other = source[measurement.index] {
                    throw .malformed(
                        what: "RIM",
                        reason:
                            "measurement \(measurement.index) is active in both \(other) and \(rim.tagID.prefix(16))…")
                }
                source[measurement.index] = String(rim.tagID.prefix(16)) + "…"
                result[String(measurement.index + 1)] = measurement.values.map { Hex.encode($0) }
            }
        }
        return result
    }
}
