import Testing

@testable import Topology

@Suite("Canonical JSON")
struct CanonicalJSONTests {
    @Test("keys sort by UTF-8 bytes at every level; no spaces")
    func ordering() {
        let value = CanonicalJSON.object([
            "é": .integer(1), "a": .array([.bool(true), .null, .integer(-5)]),
            "B": .object(["z": .string("x"), "y": .bool(false)]),
        ])
        #expect(String(decoding: value.bytes, as: UTF8.self) == #"{"B":{"y":false,"z":"x"},"a":[true,null,-5],"é":1}"#)
    }

    @Test("strings escape quotes, backslashes and control characters, and nothing else")
    func escaping() {
        let value = CanonicalJSON.string("a\"b\\c\nd\u{1}é/")
        #expect(String(decoding: value.bytes, as: UTF8.self) == #""a\"b\\c\u000ad\u0001é/""#)
    }
}
