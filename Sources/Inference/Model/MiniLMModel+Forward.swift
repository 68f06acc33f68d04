extension MiniLMModel {
    /// Token ids → hidden states after the embedding sum (word + position + type 0) and its LayerNorm.
    public func embeddings(tokens: [[Int32]]) throws(ModelError) -> HiddenStates {
        guard let table = weights.embeddings else { throw .embeddingsNotLoaded }
        let c = configuration
        let h = c.hiddenSize
        for (sequence, ids) in tokens.enumerated() {
            guard !ids.isEmpty, ids.count <= c.maxPositions else {
                throw .badSequenceLength(sequence: sequence, length: ids.count, maximum: c.maxPositions)
            }
            for (position, id) in ids.enumerated() where id < 0 || Int(id) >= c.vocabularySize {
                throw .tokenOutOfRange(sequence: sequence, position: position, id: id, vocabularySize: c.vocabularySize)
            }
        }
        let lengths = tokens.map(\.count)
        let total = lengths.reduce(0, +)
        let values = [Float](unsafeUninitializedCapacity: total * h) { out, initialized in
            let x = out.baseAddress!
            var row = 0
            for ids in tokens {
                for (position, id) in ids.enumerated() {
                    let target = x + row * h
                    let word = table.word.readOnly + Int(id) * h
                    let place = table.position.readOnly + position * h
                    let type = table.tokenType.readOnly
                    for index in 0..<h { target[index] = word[index] + place[index] + type[index] }
                    row += 1
                }
            }
            VectorMath.layerNorm(
                x, rows: total, width: h, gamma: table.normGamma.readOnly, beta: table.normBeta.readOnly,
                epsilon: c.layerNormEpsilon)
            initialized = total * h
        }
        return HiddenStates(hiddenSize: h, lengths: lengths, values: values)
    }

    /// Runs encoder layers `range` (absolute indices, within the loaded `weights.layerRange`).
    public func runLayers(_ range: Range<Int>, on states: HiddenStates) throws(ModelError) -> HiddenStates {
        let loaded = weights.layerRange
        guard range.lowerBound >= loaded.lowerBound, range.upperBound <= loaded.upperBound else {
            throw .layersNotLoaded(requested: range, loaded: loaded)
        }
        guard states.hiddenSize == configuration.hiddenSize else {
            throw .hiddenSizeMismatch(expected: configuration.hiddenSize, actual: states.hiddenSize)
        }
        for (sequence, length) in states.lengths.enumerated() where length < 1 || length > configuration.maxPositions {
            throw .badSequenceLength(sequence: sequence, length: length, maximum: configuration.maxPositions)
        }
        var values = states.values
        if !range.isEmpty, states.tokenCount > 0 {
            let layers = range.map {
                (weights.layers[$0 - loaded.lowerBound], packedLayers?[$0 - loaded.lowerBound])
            }
            workspaces.withLock { workspaces in
                values.withUnsafeMutableBufferPointer { buffer in
                    forward(layers, hidden: buffer.baseAddress!, lengths: states.lengths, workspaces: workspaces)
                }
            }
        }
        return HiddenStates(hiddenSize: states.hiddenSize, lengths: states.lengths, values: values)
    }

    /// Mean over each sequence's tokens, then L2 normalisation (if the model has a Normalize module).
    public func pool(_ states: HiddenStates) -> [[Float]] {
        let h = states.hiddenSize
        var row = 0
        return states.lengths.map { length in
            var mean = [Float](repeating: 0, count: h)
            for token in 0..<length {
                let base = (row + token) * h
                for index in 0..<h { mean[index] += states.values[base + index] }
            }
            row += length
            let scale = 1 / Float(max(length, 1))
            for index in 0..<h { mean[index] *= scale }
            if configuration.normalizes {
                // Matches torch.nn.functional.normalize: divide by max(‖v‖, 1e-12).
                let norm = max(mean.reduce(0) { $0 + $1 * $1 }.squareRoot(), 1e-12)
                for index in 0..<h { mean[index] /= norm }
            }
            return mean
        }
    }

    /// Splits the batch into contiguous groups of sequences when that balances well: each group
    /// runs every layer on its own rows with no synchronisation, and there are up to four groups
    /// per worker (of at least `minimumGroupTokens` tokens) so that a worker slowed by another
    /// process on the machine leaves its share to the others. Otherwise, as for a single
    /// sentence, every matrix product is split by output columns.
    private func forward(
        _ layers: [(LayerWeights, PackedLayerWeights?)], hidden x: UnsafeMutablePointer<Float>, lengths: [Int],
        workspaces: [Workspace]
    ) {
        let h = configuration.hiddenSize
        let total = lengths.reduce(0, +)
        // A whole number of groups per worker, so that no worker is left with an extra one at the end.
        let perWorker = min(Self.groupsPerWorker, max(1, total / (threadCount * Self.minimumGroupTokens)))
        let wanted = perWorker * threadCount
        let groups = Self.partition(lengths, into: wanted)
        let largest = groups.map { lengths[$0].reduce(0, +) }.max() ?? total
        if threadCount > 1, groups.count > 1, Double(largest) <= 0.6 * Double(total) {
            let starts = groups.map { lengths[..<$0.lowerBound].reduce(0, +) }
            Parallel.forEach(groups.count) { group in
                let groupLengths = Array(lengths[groups[group]])
                for (layer, packed) in layers {
                    runLayer(
                        layer, packed: packed, hidden: x + starts[group] * h, lengths: groupLengths,
                        workspaces: [workspaces[group]], split: 1)
                }
            }
        } else {
            for (layer, packed) in layers {
                runLayer(layer, packed: packed, hidden: x, lengths: lengths, workspaces: workspaces, split: threadCount)
            }
        }
    }

    /// Sequence groups per worker thread, at most.
    static let groupsPerWorker = 4
    /// Fewest tokens worth a group of their own (smaller products lose BLAS efficiency).
    static let minimumGroupTokens = 128

    /// Contiguous groups of sequences with roughly equal token counts, at most `count` of them.
    static func partition(_ lengths: [Int], into count: Int) -> [Range<Int>] {
        guard count > 1, lengths.count > 1 else { return [0..<lengths.count] }
        let total = lengths.reduce(0, +)
        var groups: [Range<Int>] = []
        var start = 0
        var accumulated = 0
        for (index, length) in lengths.enumerated() {
            accumulated += length
            let target = total * (groups.count + 1) / count
            if accumulated >= target, groups.count < count - 1, index + 1 < lengths.count {
                groups.append(start..<(index + 1))
                start = index + 1
            }
        }
        groups.append(start..<lengths.count)
        return groups
    }

    /// C = A·Bᵀ + C (bias already in C) with the output columns split over `split` threads;
    /// with `gelu`, each thread then applies GELU to its own columns, so that it runs in parallel too.
    /// With `packed` weights, the product runs on oneDNN (`Int8Linear`, `FP32Linear`), split by rows instead.
    private func linear(
        m: Int, n: Int, k: Int, a: UnsafePointer<Float>, weight: UnsafePointer<Float>, packed: (any PackedLinear)?,
        c: UnsafeMutablePointer<Float>, split: Int, workspaces: [Workspace], gelu: Bool = false
    ) {
        if let packed {
            // Row blocks: oneDNN's packed weights cannot be cut by columns, and every block of
            // rows (quantizes,) multiplies (and dequantizes) on its own.
            let parts = max(1, min(split, workspaces.count, m))
            let block = (m + parts - 1) / parts
            Parallel.forEach(parts) { part in
                let rows = (part * block)..<min(m, (part + 1) * block)
                guard !rows.isEmpty else { return }
                let done = packed.apply(rows: rows, a: a, c: c, workspace: workspaces[part])
                if done < rows.upperBound {
                    oneDNNFallbacks.add(1, ordering: .relaxed)
                    BLAS.gemm(
                        m: rows.upperBound - done, n: n, k: k, a: a + done * k, lda: k, b: weight, ldb: k,
                        transposeB: true, beta: 1, c: c + done * n, ldc: n)
                }
                if gelu { VectorMath.gelu(c + rows.lowerBound * n, count: rows.count * n) }
            }
            return
        }
        guard split > 1 else {
            BLAS.gemm(m: m, n: n, k: k, a: a, lda: k, b: weight, ldb: k, transposeB: true, beta: 1, c: c, ldc: n)
            if gelu { VectorMath.gelu(c, count: m * n) }
            return
        }
        // Column blocks in multiples of 16 keep the BLAS micro-kernels on full tiles.
        let block = (n / split + 15) / 16 * 16
        Parallel.forEach(split) { part in
            let start = part * block
            let width = min(block, n - start)
            guard width > 0 else { return }
            BLAS.gemm(
                m: m, n: width, k: k, a: a, lda: k, b: weight + start * k, ldb: k, transposeB: true, beta: 1,
                c: c + start, ldc: n)
            if gelu {
                for row in 0..<m { VectorMath.gelu(c + row * n + start, count: width) }
            }
        }
    }

    /// One post-LayerNorm BERT layer, in place on packed hidden states.
    private func runLayer(
        _ layer: LayerWeights, packed: PackedLayerWeights?, hidden x: UnsafeMutablePointer<Float>, lengths: [Int],
        workspaces: [Workspace], split: Int
    ) {
        let c = configuration
        let h = c.hiddenSize
        let inner = c.intermediateSize
        let tokens = lengths.reduce(0, +)
        let workspace = workspaces[0]
        let qkv = workspace.buffer(.qkv, count: tokens * 3 * h)
        let context = workspace.buffer(.context, count: tokens * h)
        let intermediate = workspace.buffer(.intermediate, count: tokens * inner)

        // One fused projection for queries, keys and values; the bias rides in through beta = 1.
        VectorMath.broadcastRows(layer.qkvBias.readOnly, width: 3 * h, into: qkv, rows: tokens)
        linear(
            m: tokens, n: 3 * h, k: h, a: x, weight: layer.qkvWeight.readOnly, packed: packed?.qkv, c: qkv,
            split: split,
            workspaces: workspaces)

        attention(qkv: qkv, context: context, lengths: lengths, workspaces: workspaces, split: split)

        // Output projection added onto the residual (plus bias), then LayerNorm.
        VectorMath.addRows(layer.attentionOutputBias.readOnly, width: h, to: x, rows: tokens)
        linear(
            m: tokens, n: h, k: h, a: context, weight: layer.attentionOutputWeight.readOnly,
            packed: packed?.attentionOutput, c: x, split: split, workspaces: workspaces)
        VectorMath.layerNorm(
            x, rows: tokens, width: h, gamma: layer.attentionNormGamma.readOnly,
            beta: layer.attentionNormBeta.readOnly, epsilon: c.layerNormEpsilon)

        // Feed-forward: GELU(x W1ᵀ + b1) W2ᵀ + b2 + x, then LayerNorm.
        VectorMath.broadcastRows(layer.intermediateBias.readOnly, width: inner, into: intermediate, rows: tokens)
        linear(
            m: tokens, n: inner, k: h, a: x, weight: layer.intermediateWeight.readOnly, packed: packed?.intermediate,
            c: intermediate, split: split, workspaces: workspaces, gelu: true)
        VectorMath.addRows(layer.outputBias.readOnly, width: h, to: x, rows: tokens)
        linear(
            m: tokens, n: h, k: inner, a: intermediate, weight: layer.outputWeight.readOnly, packed: packed?.output,
            c: x,
            split: split, workspaces: workspaces)
        VectorMath.layerNorm(
            x, rows: tokens, width: h, gamma: layer.outputNormGamma.readOnly, beta: layer.outputNormBeta.readOnly,
            epsilon: c.layerNormEpsilon)
    }

    /// Self-attention per sequence and head over its true length only (no padding, so no mask);
    /// the (sequence, head) pairs are shared out over `split` threads.
    private func attention(
        qkv: UnsafeMutablePointer<Float>, context: UnsafeMutablePointer<Float>, lengths: [Int],
        workspaces: [Workspace], split: Int
    ) {
        let c = configuration
        let h = c.hiddenSize
        let d = c.headSize
        let heads = c.headCount
        let stride = 3 * h
        let longest = lengths.max() ?? 0
        var offsets: [Int] = []
        var running = 0
        for length in lengths {
            offsets.append(running)
            running += length
        }
        let items = lengths.count * heads
        let workers = min(split, items)
        let scratch = (0..<workers).map { workspaces[$0].buffer(.scores, count: longest * longest) }
        Parallel.forEach(workers) { worker in
            let scores = scratch[worker]
            for item in Swift.stride(from: worker, to: items, by: workers) {
                let sequence = item / heads
                let head = item % heads
                let length = lengths[sequence]
                let base = qkv + offsets[sequence] * stride
                BLAS.gemm(
                    m: length, n: length, k: d, a: base + head * d, lda: stride, b: base + h + head * d, ldb: stride,
                    transposeB: true, beta: 0, c: scores, ldc: length)
                VectorMath.softmaxRows(scores, rows: length, width: length, stride: length)
                BLAS.gemm(
                    m: length, n: d, k: length, a: scores, lda: length, b: base + 2 * h + head * d, ldb: stride,
                    transposeB: false, beta: 0, c: context + offsets[sequence] * h + head * d, ldc: h)
            }
        }
    }
}
