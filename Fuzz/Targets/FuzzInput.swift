/// Shared by every harness: the input as bytes, and a way to cut it into frames.
enum FuzzInput {
    static func bytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
        guard let data, size > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: size))
    }

    /// Frames from `bytes`: a count byte (0…7), then each frame as a u16 length and its bytes;
    /// the last frame takes what is left.
    static func frames(_ bytes: [UInt8]) -> [[UInt8]] {
        guard let first = bytes.first else { return [] }
        let count = Int(first % 8)
        var frames: [[UInt8]] = []
        var offset = 1
        for index in 0..<count {
            if index == count - 1 {
                frames.append(Array(bytes[min(offset, bytes.count)...]))
                break
            }
            guard offset + 2 <= bytes.count else { break }
            let length = Int(bytes[offset]) | Int(bytes[offset + 1]) << 8
            offset += 2
            let end = min(bytes.count, offset + length)
            frames.append(Array(bytes[offset..<end]))
            offset = end
        }
        return frames
    }
}
