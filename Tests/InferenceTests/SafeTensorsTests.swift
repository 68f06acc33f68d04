import Foundation
import Testing

@testable import Inference

@Suite("SafeTensors", .timeLimit(.minutes(1)))
struct SafeTensorsTests {
    /// Builds a container from a header object and a data section.
    static func container(_ header: String, data: [UInt8], declaredLength: UInt64? = nil) -> [UInt8] {
        let json = Array(header.utf8)
        let length = declaredLength ?? UInt64(json.count)
        return withUnsafeBytes(of: length.littleEndian) { Array($0) } + json + data
    }

    static func floats(_ values: [Float]) -> [UInt8] { values.withUnsafeBytes { Array($0) } }

    static let validHeader = """
        {"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},\
        "b":{"dtype":"I64","shape":[1],"data_offsets":[16,24]}}
        """

    @Test func readsAValidContainerFromMemoryAndFile() throws {
        let bytes = Self.container(Self.validHeader, data: Self.floats([1, 2, 3, 4]) + [UInt8](repeating: 7, count: 8))
        let memory = try SafeTensors(bytes: bytes)
        #expect(memory.names == ["a", "b"])
        #expect(memory.metadata == ["format": "pt"])
        #expect(memory.tensors["a"] == TensorInfo(name: "a", dtype: .float32, shape: [2, 2], dataRange: 0..<16))
        #expect(try memory.floatTensor(named: "a") == FloatTensor(shape: [2, 2], values: [1, 2, 3, 4]))
        #expect(try memory.data(of: "b") == [UInt8](repeating: 7, count: 8))
        #expect(throws: ModelError.unsupportedDType(tensor: "b", dtype: "I64")) { try memory.floatTensor(named: "b") }
        #expect(throws: ModelError.missingTensor("c")) { try memory.floatTensor(named: "c") }

        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("small.safetensors")
        try Data(bytes).write(to: url)
        let mapped = try SafeTensors(contentsOf: url)
        #expect(try mapped.floatTensor(named: "a").values == [1, 2, 3, 4])
    }

    @Test func refusesTruncatedFiles() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let empty = directory.appendingPathComponent("empty.safetensors")
        try Data().write(to: empty)
        #expect(throws: SafeTensorsError.truncated(expected: 8, actual: 0)) { try SafeTensors(contentsOf: empty) }

        let whole = Self.container(Self.validHeader, data: Self.floats([1, 2, 3, 4]) + [UInt8](repeating: 0, count: 8))
        let cutInHeader = Array(whole.prefix(20))
        #expect(throws: SafeTensorsError.truncated(expected: 8 + Self.validHeader.utf8.count, actual: 20)) {
            try SafeTensors(bytes: cutInHeader)
        }
        // Cut in the data: the last tensor's range now ends past the data section.
        let cutInData = Array(whole.dropLast(4))
        #expect(throws: SafeTensorsError.offsetsOutOfBounds(tensor: "b", begin: 16, end: 24, dataSize: 20)) {
            try SafeTensors(bytes: cutInData)
        }
        let missing = directory.appendingPathComponent("missing.safetensors")
        #expect(throws: SafeTensorsError.self) { try SafeTensors(contentsOf: missing) }
    }

    @Test func refusesAHugeDeclaredHeader() {
        let bytes = Self.container("{}", data: [], declaredLength: UInt64.max)
        #expect(throws: SafeTensorsError.headerTooLarge(length: UInt64.max, limit: SafeTensors.maximumHeaderLength)) {
            try SafeTensors(bytes: bytes)
        }
    }

    @Test(arguments: [
        ("not json", "header is not valid JSON"),
        ("[1,2]", "header has the wrong type"),
        (#"{"a":{"dtype":"F32","shape":[1]}}"#, "header.a lacks data_offsets"),
        (#"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, "a.shape[0] is negative"),
        (#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0]}}"#, "a.data_offsets has 1 values, not 2"),
        (#"{"__metadata__":{"k":1}}"#, "header.__metadata__.k has the wrong type"),
        (#"{"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,4]}}"#, "a.shape overflows"),
    ])
    func refusesMalformedHeaders(header: String, reason: String) {
        #expect(throws: SafeTensorsError.malformedHeader(reason: reason)) {
            try SafeTensors(bytes: Self.container(header, data: [0, 0, 0, 0]))
        }
    }

    @Test func refusesFractionalDimensions() {
        let header = #"{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}"#
        #expect {
            try SafeTensors(bytes: Self.container(header, data: [0, 0, 0, 0]))
        } throws: { error in
            guard case .malformedHeader(let reason) = error as? SafeTensorsError else { return false }
            return reason.hasPrefix("header")
        }
    }

    @Test func refusesUnknownDTypesBadOffsetsWrongSizesAndOverlap() {
        let data = [UInt8](repeating: 0, count: 16)
        #expect(throws: SafeTensorsError.unknownDType(tensor: "a", dtype: "F33")) {
            try SafeTensors(
                bytes: Self.container(#"{"a":{"dtype":"F33","shape":[1],"data_offsets":[0,4]}}"#, data: data))
        }
        #expect(throws: SafeTensorsError.offsetsOutOfBounds(tensor: "a", begin: 8, end: 4, dataSize: 16)) {
            try SafeTensors(
                bytes: Self.container(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}}"#, data: data))
        }
        #expect(throws: SafeTensorsError.offsetsOutOfBounds(tensor: "a", begin: 12, end: 20, dataSize: 16)) {
            try SafeTensors(
                bytes: Self.container(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[12,20]}}"#, data: data))
        }
        #expect(throws: SafeTensorsError.sizeMismatch(tensor: "a", expected: 12, actual: 8)) {
            try SafeTensors(
                bytes: Self.container(#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: data))
        }
        let overlapping =
            #"{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"#
            + #""y":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#
        #expect(throws: SafeTensorsError.overlap(first: "x", second: "y")) {
            try SafeTensors(bytes: Self.container(overlapping, data: data))
        }
    }

    @Test(.modelPresent)
    func readsTheModelFile() throws {
        let file = try SafeTensors(contentsOf: TestSupport.modelDirectory!.appendingPathComponent("model.safetensors"))
        #expect(file.tensors.count == 104)
        #expect(file.tensors["embeddings.word_embeddings.weight"]?.shape == [30522, 384])
        let gamma = try file.floatTensor(named: "embeddings.LayerNorm.weight")
        #expect(gamma.values.count == 384 && gamma.values.allSatisfy(\.isFinite))
    }
}
