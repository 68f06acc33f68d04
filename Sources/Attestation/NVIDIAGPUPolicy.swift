/// NVIDIA GPU requirements for one role (composite evidence only: a GPU report never stands for
/// a role on its own).
public struct NVIDIAGPUPolicy: Sendable, Hashable, Codable {
    /// Reference values by measurement block index ("1" … "64"), each a list of accepted hex
    /// values. A block not listed is not checked; a listed block missing from the report fails.
    public var referenceMeasurements: [String: [String]]?
    /// NVIDIA's driver and VBIOS RIM files (paths). The broker reads them when it starts, checks
    /// their signatures to the pinned NVIDIA CoRIM signing Root CA, and adds every active
    /// measurement to `referenceMeasurements` (`resolvingManifests(now:read:)`).
    public var referenceManifests: [String]?
    /// Accepted driver versions ("550.90.07"); nil accepts any.
    public var driverVersions: [String]?
    /// Accepted VBIOS versions ("96.00.9f.00.01"); nil accepts any.
    public var vbiosVersions: [String]?

    public init(
        referenceMeasurements: [String: [String]]? = nil, referenceManifests: [String]? = nil,
        driverVersions: [String]? = nil, vbiosVersions: [String]? = nil
    ) {
        self.referenceMeasurements = referenceMeasurements
        self.referenceManifests = referenceManifests
        self.driverVersions = driverVersions
        self.vbiosVersions = vbiosVersions
    }
}
