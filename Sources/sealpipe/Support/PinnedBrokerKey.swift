import ArgumentParser
import Foundation
import Launcher
import Sodium
import Topology

/// The key broker identity a gateway or stage node pins: from `--broker-key FILE`, or the file
/// `sealpipe launch` writes beside the broker's state before it starts any service. Without one
/// the service does not start: a gateway could not tell replicas from impostors, a node could
/// not tell the broker's keys from anyone's.
enum PinnedBrokerKey {
    static func load(option: String?, topology: Topology) throws -> SigningPublicKey {
        let file = option.map { URL(fileURLWithPath: $0) } ?? LaunchPreparation.brokerIdentityFile(topology: topology)
        let text: String
        do {
            text = try String(contentsOf: file, encoding: .utf8)
        } catch {
            throw ValidationError(
                "--broker-key: cannot read the key broker's identity at \(file.path) "
                    + "(`sealpipe launch` writes it on the broker's host; copy it to other hosts): "
                    + error.localizedDescription)
        }
        guard let bytes = Hex.decode(text.trimmingCharacters(in: .whitespacesAndNewlines)),
            let key = try? SigningPublicKey(bytes: bytes)
        else {
            throw ValidationError("--broker-key: \(file.path) does not hold 64 hex digits, an Ed25519 public key")
        }
        return key
    }
}
