import Dispatch

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
            workspace.withLock { workspace in
                values.withUnsafeMutableBufferPointer { buffer in
                    for index in range {
                        runLayer(
                            weights.layers[index - loaded.lowerBound], hidden: buffer.baseAddress!,
                            lengths: states.lengths, workspace: workspace)
                    }
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

    /// One post-LayerNorm BERT layer, in place on packed hidden states.
    private func runLayer(
        _ layer: LayerWeights, hidden x: UnsafeMutablePointer<Float>, lengths: [Int], workspace: Workspace
    ) {
        let c = configuration
        let h = c.hiddenSize
        let tokens = lengths.reduce(0, +)
        let qkv = workspace.buffer(.qkv, count: tokens * 3 * h)
        let context = workspace.buffer(.context, count: tokens * h)
        let intermediate = workspace.buffer(.intermediate, count: tokens * c.intermediateSize)

        // One fused projection for queries, keys and values; the bias rides in through beta = 1.
        VectorMath.broadcastRows(layer.qkvBias.readOnly, width: 3 * h, into: qkv, rows: tokens)
        BLAS.gemm(
            m: tokens, n: 3 * h, k: h, a: x, lda: h, b: layer.qkvWeight.readOnly, ldb: h, transposeB: true,
            beta: 1, c: qkv, ldc: 3 * h)

        attention(qkv: qkv, context: context, lengths: lengths, workspace: workspace)

        // Output projection added onto the residual (plus bias), then LayerNorm.
        VectorMath.addRows(layer.attentionOutputBias.readOnly, width: h, to: x, rows: tokens)
        BLAS.gemm(
            m: tokens, n: h, k: h, a: context, lda: h, b: layer.attentionOutputWeight.readOnly, ldb: h,
            transposeB: true, beta: 1, c: x, ldc: h)
        VectorMath.layerNorm(
            x, rows: tokens, width: h, gamma: layer.attentionNormGamma.readOnly,
            beta: layer.attentionNormBeta.readOnly, epsilon: c.layerNormEpsilon)

        // Feed-forward: GELU(x W1ᵀ + b1) W2ᵀ + b2 + x, then LayerNorm.
        VectorMath.broadcastRows(
            layer.intermediateBias.readOnly, width: c.intermediateSize, into: intermediate, rows: tokens)
        BLAS.gemm(
            m: tokens, n: c.intermediateSize, k: h, a: x, lda: h, b: layer.intermediateWeight.readOnly, ldb: h,
            transposeB: true, beta: 1, c: intermediate, ldc: c.intermediateSize)
        VectorMath.gelu(intermediate, count: tokens * c.intermediateSize)
        VectorMath.addRows(layer.outputBias.readOnly, width: h, to: x, rows: tokens)
        BLAS.gemm(
            m: tokens, n: h, k: c.intermediateSize, a: intermediate, lda: c.intermediateSize,
            b: layer.outputWeight.readOnly, ldb: c.intermediateSize, transposeB: true, beta: 1, c: x, ldc: h)
        VectorMath.layerNorm(
            x, rows: tokens, width: h, gamma: layer.outputNormGamma.readOnly, beta: layer.outputNormBeta.readOnly,
            epsilon: c.layerNormEpsilon)
    }

    /// Self-attention per sequence and head over its true length only (no padding, so no mask).
    private func attention(
        qkv: UnsafeMutablePointer<Float>, context: UnsafeMutablePointer<Float>, lengths: [Int], workspace: Workspace
    ) {
        let c = configuration
        let h = c.hiddenSize
        let d = c.headSize
        let stride = 3 * h
        let longest = lengths.max() ?? 0
        let scores = workspace.buffer(.scores, count: longest * longest)
        var offset = 0
        for length in lengths {
            let base = qkv + offset * stride
            for head in 0..<c.headCount {
                let query = base + head * d
                let key = base + h + head * d
                let value = base + 2 * h + head * d
                BLAS.gemm(
                    m: length, n: length, k: d, a: query, lda: stride, b: key, ldb: stride, transposeB: true,
                    beta: 0, c: scores, ldc: length)
                VectorMath.softmaxRows(scores, rows: length, width: length, stride: length)
                BLAS.gemm(
                    m: length, n: d, k: length, a: scores, lda: length, b: value, ldb: stride, transposeB: false,
                    beta: 0, c: context + offset * h + head * d, ldc: h)
            }
            offset += length
        }
    }
}
