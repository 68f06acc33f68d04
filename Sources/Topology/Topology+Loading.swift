import Foundation
import Sodium
import Yams

extension Topology {
    /// Decodes and validates a topology from YAML text, reporting every problem at once.
    public init(yaml: String) throws(TopologyError) {
        let node: Node
        do {
            guard let root = try Yams.compose(yaml: yaml) else {
                throw TopologyError(issues: [TopologyIssue(path: "", message: "the file is empty")])
            }
            node = root
        } catch let error as TopologyError {
            throw error
        } catch let error as YamlError {
            throw TopologyError(issues: [
                TopologyIssue(path: "", message: "not valid YAML: \(Topology.describe(error))")
            ])
        } catch {
            throw TopologyError(issues: [TopologyIssue(path: "", message: "not valid YAML: \(error)")])
        }
        let collector = DecodingIssues()
        let raw: RawTopology
        do {
            raw = try YAMLDecoder().decode(
                RawTopology.self, from: node, userInfo: [DecodingIssues.userInfoKey: collector])
        } catch {
            throw TopologyError(issues: collector.all + [DecodingIssues.issue(for: error, at: [])])
        }
        var resolver = TopologyResolver(decodingIssues: collector.all)
        guard let topology = resolver.resolve(raw) else {
            throw TopologyError(issues: resolver.issues)
        }
        self = topology
        digest = SHA256.hash(Array(yaml.utf8))
    }

    /// Reads and validates a topology file (the only I/O this module's topology code does).
    public static func load(path: String) throws(TopologyError) -> Topology {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw TopologyError(issues: [
                TopologyIssue(path: "", message: "cannot read \(path): \(error.localizedDescription)")
            ])
        }
        return try Topology(yaml: text)
    }

    /// Yams' own description repeats the whole file; an operator needs the place and the problem.
    private static func describe(_ error: YamlError) -> String {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let during = context.map { " (\($0.text) at line \($0.mark.line), column \($0.mark.column))" } ?? ""
            return "line \(mark.line), column \(mark.column): \(problem)\(during)"
        case .duplicatedKeysInMapping(let duplicates, let context):
            let keys = duplicates.map { "\"\($0)\"" }.joined(separator: ", ")
            return "\(keys) given twice in the mapping at line \(context.mark.line), column \(context.mark.column)"
        default:
            return "\(error)".split(separator: "\n").first.map(String.init) ?? "\(error)"
        }
    }
}
