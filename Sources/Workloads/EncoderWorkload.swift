public import Inference
public import Sodium
public import StageRuntime

/// A worker shard: runs its layer range over a batch. The first shard takes token ids and
/// computes the embeddings; later shards take hidden states. Jobs of a batch are packed
/// together (no padding) and split apart again afterwards.
public struct EncoderWorkload: StageWorkload {
    public let model: MiniLMModel
    public let layers: Range<Int>

    public init(model: MiniLMModel, layers: Range<Int>) {
        self.model = model
        self.layers = layers
    }

    /// Whether this shard starts from token ids (it holds the embedding tables).
    public var takesTokens: Bool { model.weights.hasEmbeddings }

    public func process(_ inputs: [SecureBytes]) -> [StageOutcome] {
        var outcomes = [StageOutcome](repeating: .failure("not processed"), count: inputs.count)
        var decoded: [(index: Int, payload: StagePayload)] = []
        for (index, input) in inputs.enumerated() {
            do {
                let payload = try SecurePayloads.decode(input)
                switch (payload, takesTokens) {
                case (.tokenIDs, true), (.hiddenStates, false): decoded.append((index, payload))
                default: outcomes[index] = .failure("the shard received \(payload.kindName), which it does not take")
                }
            } catch {
                outcomes[index] = .failure("the stage payload is malformed: \(error)")
            }
        }
        guard !decoded.isEmpty else { return outcomes }
        do {
            for (index, output) in zip(decoded.map(\.index), try run(decoded.map(\.payload))) {
                outcomes[index] = .output(output)
            }
        } catch {
            // One bad job must not fail its batch-mates: retry each alone to isolate it.
            for (index, payload) in decoded {
                do { outcomes[index] = .output(try run([payload])[0]) } catch { outcomes[index] = .failure("\(error)") }
            }
        }
        return outcomes
    }

    private func run(_ payloads: [StagePayload]) throws(ModelError) -> [SecureBytes] {
        var sequenceCounts: [Int] = []
        let states: HiddenStates
        if takesTokens {
            var tokens: [[Int32]] = []
            for case .tokenIDs(let ids) in payloads {
                tokens += ids
                sequenceCounts.append(ids.count)
            }
            states = try model.embeddings(tokens: tokens)
        } else {
            var parts: [HiddenStates] = []
            for case .hiddenStates(let part) in payloads {
                parts.append(part)
                sequenceCounts.append(part.batchSize)
            }
            states = try HiddenStates.concatenating(parts, hiddenSize: model.configuration.hiddenSize)
        }
        let output = try model.runLayers(layers, on: states)
        return output.split(sequenceCounts: sequenceCounts).map { SecurePayloads.encode(.hiddenStates($0)) }
    }
}

extension StagePayload {
    var kindName: String {
        switch self {
        case .tokenIDs: "token ids"
        case .hiddenStates: "hidden states"
        case .embeddings: "embeddings"
        }
    }
}

extension HiddenStates {
    /// Packs several batches into one (sequences in order).
    static func concatenating(_ parts: [HiddenStates], hiddenSize: Int) throws(ModelError) -> HiddenStates {
        for part in parts where part.hiddenSize != hiddenSize {
            throw .hiddenSizeMismatch(expected: hiddenSize, actual: part.hiddenSize)
        }
        if parts.count == 1 { return parts[0] }
        var values: [Float] = []
        values.reserveCapacity(parts.reduce(0) { $0 + $1.values.count })
        for part in parts { values += part.values }
        return HiddenStates(hiddenSize: hiddenSize, lengths: parts.flatMap(\.lengths), values: values)
    }

    /// Splits into consecutive batches of `sequenceCounts[i]` sequences each.
    func split(sequenceCounts: [Int]) -> [HiddenStates] {
        var parts: [HiddenStates] = []
        var sequence = 0
        var row = 0
        for count in sequenceCounts {
            let lengths = Array(self.lengths[sequence..<sequence + count])
            let rows = lengths.reduce(0, +)
            parts.append(
                HiddenStates(
                    hiddenSize: hiddenSize, lengths: lengths,
                    values: Array(values[row * hiddenSize..<(row + rows) * hiddenSize])))
            sequence += count
            row += rows
        }
        return parts
    }
}
