import Foundation

/// Writes a line to standard output at once (unbuffered), so that a launcher, a pipe or a test
/// reading it sees each line when it happens, not when a buffer fills.
enum Output {
    static func line(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }
}
