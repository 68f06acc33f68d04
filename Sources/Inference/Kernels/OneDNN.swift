internal import CDNNL
import Synchronization

/// oneDNN, opened at run time (`libdnnl.so.2`): the engine's int8 matrix products, and an fp32
/// sgemm to measure against OpenBLAS's. oneDNN reads the CPU's features itself and JIT-compiles
/// its kernels for them (AVX-512 VNNI, AVX2, AMX), so nothing here names an instruction set.
///
/// Opened with dlopen rather than linked, so that a host without the library still starts: the
/// engine then runs fp32 on OpenBLAS and says so (`MiniLMModel.precisionWarning`), never silently.
final class OneDNN: @unchecked Sendable {  // the function table and engine are immutable; the cache is locked
    /// The library's file name (its soname, as Debian's libdnnl2 ships it).
    static let libraryName = "libdnnl.so.2"

    /// The process's oneDNN, or why it cannot be used; opened on first use.
    static let shared: Result<OneDNN, Unavailable> = open(library: libraryName)

    /// Why oneDNN cannot be used.
    struct Unavailable: Error, Equatable, Sendable {
        let reason: String
    }

    let api: sealpipe_dnnl_api
    private let engine: dnnl_engine_t
    /// `major.minor.patch`, e.g. `2.6.3`.
    let version: String
    /// Compiled int8 products by shape; bounded (cleared when full), each kept alive by its users.
    private let primitives = Mutex<[Shape: Primitive]>([:])
    private static let cachedPrimitiveLimit = 512

    private init(api: sealpipe_dnnl_api, engine: dnnl_engine_t, version: String) {
        self.api = api
        self.engine = engine
        self.version = version
    }

    /// Opens `library` and creates a CPU engine; `library` is a parameter so tests can name a
    /// library that does not exist and see the engine fall back.
    static func open(library: String) -> Result<OneDNN, Unavailable> {
        var api = sealpipe_dnnl_api()
        if let failure = sealpipe_dnnl_open(library, &api) {
            return .failure(Unavailable(reason: "\(library): \(String(cString: failure))"))
        }
        var engine: dnnl_engine_t?
        guard api.engine_create!(&engine, dnnl_cpu, 0) == dnnl_success, let engine else {
            return .failure(Unavailable(reason: "\(library): no CPU engine"))
        }
        var version = "unknown"
        if let info = api.version!() {
            version = "\(info.pointee.major).\(info.pointee.minor).\(info.pointee.patch)"
        }
        return .success(OneDNN(api: api, engine: engine, version: version))
    }

    /// The product `m` rows of u8 activations by the packed s8 weights of `layout`, into s32.
    struct Shape: Hashable {
        let m: Int
        let n: Int
        let k: Int
        let product: Product
    }

    /// The two products the engine runs on oneDNN: the types of activations, weights and result.
    enum Product: Hashable, Sendable {
        /// u8 activations · s8 weights → s32 (`Int8Linear` quantizes and dequantizes around it).
        case int8
        /// f32 · f32 → f32 with the weights packed once (`FP32Linear`).
        case fp32

        var source: dnnl_data_type_t { self == .int8 ? dnnl_u8 : dnnl_f32 }
        var weights: dnnl_data_type_t { self == .int8 ? dnnl_s8 : dnnl_f32 }
        var destination: dnnl_data_type_t { self == .int8 ? dnnl_s32 : dnnl_f32 }
        var weightBytes: Int { self == .int8 ? 1 : 4 }
    }

    /// A compiled primitive; destroyed when the last user lets go.
    ///
    /// Its scratchpad is the caller's (`dnnl_scratchpad_mode_user`): oneDNN's own global
    /// scratchpad is shared, and two threads running the same primitive at once overwrite each
    /// other's partial sums there (measured: wrong embeddings with 2 threads, right with 1).
    final class Primitive: @unchecked Sendable {  // executing is thread-safe with a scratchpad per call
        let handle: dnnl_primitive_t
        /// oneDNN's implementation name, e.g. `brg:avx512_core_vnni`.
        let implementation: String
        /// The scratchpad it needs, in the layout oneDNN asked for.
        let scratchpad: dnnl_memory_desc_t
        let scratchpadBytes: Int
        private let api: sealpipe_dnnl_api

        init(handle: dnnl_primitive_t, implementation: String, scratchpad: dnnl_memory_desc_t, api: sealpipe_dnnl_api) {
            self.handle = handle
            self.implementation = implementation
            self.scratchpad = scratchpad
            var descriptor = scratchpad
            self.scratchpadBytes = api.memory_desc_get_size!(&descriptor)
            self.api = api
        }

        deinit { _ = api.primitive_destroy!(handle) }
    }

    /// Memory descriptors of a row-major matrix and of the weights in the layout oneDNN prefers.
    private func plainDescriptor(rows: Int, columns: Int, type: dnnl_data_type_t, transposed: Bool = false)
        -> dnnl_memory_desc_t?
    {
        var descriptor = dnnl_memory_desc_t()
        var dims = [Int64](repeating: 0, count: Int(DNNL_MAX_NDIMS))
        dims[0] = Int64(rows)
        dims[1] = Int64(columns)
        let tag = transposed ? dnnl_ba : dnnl_ab
        guard api.memory_desc_init_by_tag!(&descriptor, 2, dims, type, tag) == dnnl_success else { return nil }
        return descriptor
    }

    /// The primitive descriptor of source[m×k] · weights[k×n] → destination[m×n] in the types of
    /// `shape.product`, with the weights in `weights` (or oneDNN's preferred layout when nil).
    /// The caller destroys it.
    private func matmulDescriptor(_ shape: Shape, weights: dnnl_memory_desc_t?) -> dnnl_primitive_desc_t? {
        guard var source = plainDescriptor(rows: shape.m, columns: shape.k, type: shape.product.source),
            var destination = plainDescriptor(rows: shape.m, columns: shape.n, type: shape.product.destination)
        else { return nil }
        var weightDescriptor: dnnl_memory_desc_t
        if let weights {
            weightDescriptor = weights
        } else {
            weightDescriptor = dnnl_memory_desc_t()
            var dims = [Int64](repeating: 0, count: Int(DNNL_MAX_NDIMS))
            dims[0] = Int64(shape.k)
            dims[1] = Int64(shape.n)
            guard
                api.memory_desc_init_by_tag!(&weightDescriptor, 2, dims, shape.product.weights, dnnl_format_tag_any)
                    == dnnl_success
            else { return nil }
        }
        var operation = dnnl_matmul_desc_t()
        guard api.matmul_desc_init!(&operation, &source, &weightDescriptor, nil, &destination) == dnnl_success else {
            return nil
        }
        var attributes: dnnl_primitive_attr_t?
        guard api.primitive_attr_create!(&attributes) == dnnl_success, let attributes else { return nil }
        defer { _ = api.primitive_attr_destroy!(attributes) }
        guard api.primitive_attr_set_scratchpad_mode!(attributes, dnnl_scratchpad_mode_user) == dnnl_success else {
            return nil
        }
        // Kernels are compiled for the thread count of the creating thread: one, as they run.
        api.omp_set_num_threads?(1)
        var descriptor: dnnl_primitive_desc_t?
        guard api.primitive_desc_create!(&descriptor, &operation, attributes, engine, nil) == dnnl_success else {
            return nil
        }
        return descriptor
    }

    /// Weights packed once for a product: [n×k] (PyTorch's [out × in]) reordered into the layout
    /// oneDNN's kernel reads, and a memory object over them.
    final class PackedWeights: @unchecked Sendable {  // read-only after init
        let n: Int
        let k: Int
        let product: Product
        let layout: dnnl_memory_desc_t
        let memory: dnnl_memory_t
        private let storage: UnsafeMutableRawPointer
        private let api: sealpipe_dnnl_api

        fileprivate init(
            n: Int, k: Int, product: Product, layout: dnnl_memory_desc_t, memory: dnnl_memory_t,
            storage: UnsafeMutableRawPointer, api: sealpipe_dnnl_api
        ) {
            self.n = n
            self.k = k
            self.product = product
            self.layout = layout
            self.memory = memory
            self.storage = storage
            self.api = api
        }

        deinit {
            _ = api.memory_destroy!(memory)
            storage.deallocate()
        }
    }

    /// Packs s8 weights [n×k] for products with up to any number of rows. The layout is the one
    /// oneDNN prefers for `representativeRows` rows; every later shape is compiled for it.
    func pack(_ weights: [Int8], n: Int, k: Int, representativeRows: Int = 128) -> Result<PackedWeights, Unavailable> {
        precondition(weights.count == n * k, "OneDNN.pack: \(weights.count) values for \(n)×\(k)")
        return weights.withUnsafeBytes { source in
            pack(source.baseAddress!, product: .int8, n: n, k: k, representativeRows: representativeRows)
        }
    }

    /// Packs f32 weights [n×k] (`n * k` values at `weights`), as `pack(_:n:k:)` does s8 ones.
    func pack(fp32 weights: UnsafePointer<Float>, n: Int, k: Int, representativeRows: Int = 128)
        -> Result<PackedWeights, Unavailable>
    {
        pack(UnsafeRawPointer(weights), product: .fp32, n: n, k: k, representativeRows: representativeRows)
    }

    private func pack(
        _ weights: UnsafeRawPointer, product: Product, n: Int, k: Int, representativeRows: Int
    ) -> Result<PackedWeights, Unavailable> {
        let shape = Shape(m: representativeRows, n: n, k: k, product: product)
        guard let descriptor = matmulDescriptor(shape, weights: nil) else {
            return .failure(Unavailable(reason: "oneDNN \(version) has no \(product) matmul for \(n)×\(k) on this CPU"))
        }
        defer { _ = api.primitive_desc_destroy!(descriptor) }
        guard let preferred = api.primitive_desc_query_md!(descriptor, dnnl_query_weights_md, 0)?.pointee,
            var plain = plainDescriptor(rows: k, columns: n, type: product.weights, transposed: true)
        else { return .failure(Unavailable(reason: "oneDNN \(version): no weight layout for \(n)×\(k)")) }
        var layout = preferred
        let size = max(api.memory_desc_get_size!(&layout), 1)
        let storage = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64)
        var packedMemory: dnnl_memory_t?
        var plainMemory: dnnl_memory_t?
        var reorder: dnnl_primitive_desc_t?
        var reorderPrimitive: dnnl_primitive_t?
        var stream: dnnl_stream_t?
        defer {
            if let plainMemory { _ = api.memory_destroy!(plainMemory) }
            if let reorderPrimitive { _ = api.primitive_destroy!(reorderPrimitive) }
            if let reorder { _ = api.primitive_desc_destroy!(reorder) }
            if let stream { _ = api.stream_destroy!(stream) }
        }
        let done = { () -> Bool in
            // [n×k] row-major is the [k×n] matrix in `ba` order: no copy before the reorder.
            let raw = UnsafeMutableRawPointer(mutating: weights)
            guard api.memory_create!(&plainMemory, &plain, engine, raw) == dnnl_success,
                api.memory_create!(&packedMemory, &layout, engine, storage) == dnnl_success,
                api.reorder_primitive_desc_create!(&reorder, &plain, engine, &layout, engine, nil) == dnnl_success,
                api.primitive_create!(&reorderPrimitive, reorder) == dnnl_success,
                api.stream_create!(&stream, engine, UInt32(dnnl_stream_default_flags.rawValue)) == dnnl_success
            else { return false }
            var arguments = [
                sealpipe_dnnl_arg(DNNL_ARG_SRC_0, plainMemory), sealpipe_dnnl_arg(DNNL_ARG_DST_0, packedMemory),
            ]
            return api.primitive_execute!(reorderPrimitive, stream, 2, &arguments) == dnnl_success
                && api.stream_wait!(stream) == dnnl_success
        }()
        guard done, let packedMemory else {
            if let packedMemory { _ = api.memory_destroy!(packedMemory) }
            storage.deallocate()
            return .failure(Unavailable(reason: "oneDNN \(version): packing \(n)×\(k) \(product) weights failed"))
        }
        return .success(
            PackedWeights(
                n: n, k: k, product: product, layout: layout, memory: packedMemory, storage: storage, api: api))
    }

    /// The compiled product for `m` rows against `weights`, from the cache or compiled now.
    func primitive(rows m: Int, weights: PackedWeights) -> Primitive? {
        let shape = Shape(m: m, n: weights.n, k: weights.k, product: weights.product)
        if let cached = primitives.withLock({ $0[shape] }) { return cached }
        guard let descriptor = matmulDescriptor(shape, weights: weights.layout) else { return nil }
        defer { _ = api.primitive_desc_destroy!(descriptor) }
        var handle: dnnl_primitive_t?
        guard api.primitive_create!(&handle, descriptor) == dnnl_success, let handle else { return nil }
        let name = withUnsafePointer(to: api) { sealpipe_dnnl_impl_name($0, descriptor) }.map { String(cString: $0) }
        guard let scratchpad = api.primitive_desc_query_md!(descriptor, dnnl_query_scratchpad_md, 0)?.pointee else {
            _ = api.primitive_destroy!(handle)
            return nil
        }
        let compiled = Primitive(handle: handle, implementation: name ?? "unknown", scratchpad: scratchpad, api: api)
        return primitives.withLock { cache in
            if let raced = cache[shape] { return raced }
            if cache.count >= Self.cachedPrimitiveLimit { cache.removeAll() }
            cache[shape] = compiled
            return compiled
        }
    }

    /// s32[m×n] = u8 `a`[m×k] · s8 weightsᵀ, on the calling thread only (oneDNN's OpenMP team is
    /// held to one thread: the encoder parallelises above it, as it does with OpenBLAS).
    /// `scratch` gives the primitive's scratchpad (`scratchpadBytes(rows:weights:)`, 64-byte aligned).
    func multiply(
        rows m: Int, a: UnsafePointer<UInt8>, weights: PackedWeights, into c: UnsafeMutablePointer<Int32>,
        scratch: (Int) -> UnsafeMutableRawPointer
    ) -> Bool {
        precondition(weights.product == .int8, "OneDNN.multiply: u8 activations need int8 weights")
        return multiply(
            rows: m, source: UnsafeRawPointer(a), weights: weights, into: UnsafeMutableRawPointer(c), scratch: scratch)
    }

    /// f32[m×n] = f32 `a`[m×k] · f32 weightsᵀ, as the int8 `multiply` (the result is written, not added).
    func multiply(
        rows m: Int, a: UnsafePointer<Float>, weights: PackedWeights, into c: UnsafeMutablePointer<Float>,
        scratch: (Int) -> UnsafeMutableRawPointer
    ) -> Bool {
        precondition(weights.product == .fp32, "OneDNN.multiply: f32 activations need fp32 weights")
        return multiply(
            rows: m, source: UnsafeRawPointer(a), weights: weights, into: UnsafeMutableRawPointer(c), scratch: scratch)
    }

    private func multiply(
        rows m: Int, source a: UnsafeRawPointer, weights: PackedWeights, into c: UnsafeMutableRawPointer,
        scratch: (Int) -> UnsafeMutableRawPointer
    ) -> Bool {
        let product = weights.product
        guard let primitive = primitive(rows: m, weights: weights),
            var source = plainDescriptor(rows: m, columns: weights.k, type: product.source),
            var destination = plainDescriptor(rows: m, columns: weights.n, type: product.destination)
        else { return false }
        var scratchpad = primitive.scratchpad
        api.omp_set_num_threads?(1)
        var sourceMemory: dnnl_memory_t?
        var destinationMemory: dnnl_memory_t?
        var scratchpadMemory: dnnl_memory_t?
        var stream: dnnl_stream_t?
        defer {
            if let sourceMemory { _ = api.memory_destroy!(sourceMemory) }
            if let destinationMemory { _ = api.memory_destroy!(destinationMemory) }
            if let scratchpadMemory { _ = api.memory_destroy!(scratchpadMemory) }
            if let stream { _ = api.stream_destroy!(stream) }
        }
        guard api.memory_create!(&sourceMemory, &source, engine, UnsafeMutableRawPointer(mutating: a)) == dnnl_success,
            api.memory_create!(&destinationMemory, &destination, engine, c) == dnnl_success,
            api.memory_create!(&scratchpadMemory, &scratchpad, engine, scratch(primitive.scratchpadBytes))
                == dnnl_success,
            api.stream_create!(&stream, engine, UInt32(dnnl_stream_default_flags.rawValue)) == dnnl_success
        else { return false }
        var arguments = [
            sealpipe_dnnl_arg(DNNL_ARG_SRC_0, sourceMemory), sealpipe_dnnl_arg(DNNL_ARG_WEIGHTS_0, weights.memory),
            sealpipe_dnnl_arg(DNNL_ARG_DST_0, destinationMemory),
            sealpipe_dnnl_arg(DNNL_ARG_SCRATCHPAD, scratchpadMemory),
        ]
        return api.primitive_execute!(primitive.handle, stream, 4, &arguments) == dnnl_success
            && api.stream_wait!(stream) == dnnl_success
    }

    /// Row-major C[m×n] = A[m×k]·Bᵀ + beta·C for B stored [n×k], with oneDNN's sgemm (measured
    /// against OpenBLAS's in `docs/benchmarks.md`).
    func sgemm(
        m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        transposeB: Bool, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        api.omp_set_num_threads?(1)
        _ = api.sgemm!(
            CChar(UInt8(ascii: "N")), CChar(UInt8(ascii: transposeB ? "T" : "N")), Int64(m), Int64(n), Int64(k), 1, a,
            Int64(lda), b, Int64(ldb), beta, c, Int64(ldc))
    }
}
