import TritonJSON

/// The arithmetic of the OpenKruise CloneSet controller (v1alpha1): how many pods to create or
/// delete, at which revision, and how many may be unavailable. Pure, so it is tested on its own.
enum CloneSetMath {
    /// Resolves an int-or-percent against `total`.
    static func resolve(_ value: JSONValue?, total: Int, roundUp: Bool, default fallback: Int = 0) -> Int {
        guard let value, !value.isNull else { return fallback }
        if let i = value.intValue { return i }
        if let s = value.stringValue, s.hasSuffix("%"), let p = Double(s.dropLast()) {
            let exact = p * Double(total) / 100
            return roundUp ? Int(exact.rounded(.up)) : Int(exact.rounded(.down))
        }
        if let s = value.stringValue, let i = Int(s) { return i }
        return fallback
    }

    /// Partition: pods kept at old revisions. A percent rounds up; below 100% with more than one
    /// replica it still lets at least one pod update.
    static func partition(_ value: JSONValue?, replicas: Int) -> Int {
        var p = self.resolve(value, total: replicas, roundUp: true)
        p = max(0, min(p, replicas))
        if let s = value?.stringValue, s.hasSuffix("%"), let percent = Double(s.dropLast()), percent < 100, replicas > 1,
            p >= replicas
        {
            p = replicas - 1
        }
        return p
    }

    struct Inputs: Sendable {
        var replicas: Int
        var partition: JSONValue?
        var maxSurge: JSONValue?
        var maxUnavailable: JSONValue?
        var scaleMaxUnavailable: JSONValue?
        var paused: Bool
        var sameRevision: Bool
        var newActive: Int
        var oldActive: Int
        var unavailableNew: Int
        var unavailableOld: Int
        var toDeleteNew: Int
        var toDeleteOld: Int
    }

    struct Diffs: Sendable, Equatable {
        var partition = 0
        var maxSurge = 0
        var maxUnavailable = 0
        var useSurge = 0
        var useSurgeOldRevision = 0
        var scaleUpNum = 0
        var scaleUpNumOldRevision = 0
        var scaleDownNum = 0
        var scaleDownNumOldRevision = 0
        var deleteReadyLimit = 0
        var scaleUpLimit = Int.max
        var updateNum = 0
        var updateMaxUnavailable = 0
    }

    static func diffs(_ i: Inputs) -> Diffs {
        var d = Diffs()
        let replicas = i.replicas
        d.partition = self.partition(i.partition, replicas: replicas)
        d.maxSurge = i.paused ? 0 : max(0, min(self.resolve(i.maxSurge, total: replicas, roundUp: true), replicas))
        d.maxUnavailable = max(
            0, min(self.resolve(i.maxUnavailable ?? "20%", total: replicas, roundUp: d.maxSurge == 0), replicas))
        let active = i.newActive + i.oldActive
        let totalUnavailable = i.unavailableNew + i.unavailableOld
        var updateOldDiff = i.oldActive - d.partition
        var updateNewDiff = i.newActive - (replicas - d.partition)
        // Raising the partition does not roll pods back.
        updateOldDiff = max(updateOldDiff, 0)
        updateNewDiff = min(updateNewDiff, 0)

        if d.maxSurge > 0 {
            var scaleSurge = 0
            var scaleOldRevisionSurge = 0
            let toDelete = i.toDeleteNew + i.toDeleteOld
            if toDelete > 0 {
                scaleSurge = min(max(totalUnavailable + toDelete - d.maxUnavailable, 0), toDelete)
                if scaleSurge > i.toDeleteNew { scaleOldRevisionSurge = scaleSurge - i.toDeleteNew }
            }
            var updateSurge = 0
            var updateOldRevisionSurge = 0
            if (updateOldDiff > 0 && updateNewDiff < 0) || (updateOldDiff < 0 && updateNewDiff > 0) {
                if abs(updateOldDiff) <= abs(updateNewDiff) {
                    updateSurge = abs(updateOldDiff)
                    if updateOldDiff < 0 { updateOldRevisionSurge = updateSurge }
                } else {
                    updateSurge = abs(updateNewDiff)
                    if updateNewDiff > 0 { updateOldRevisionSurge = updateSurge }
                }
            }
            if scaleSurge >= updateSurge {
                d.useSurge = min(d.maxSurge, scaleSurge)
                d.useSurgeOldRevision = min(d.useSurge, scaleOldRevisionSurge)
            } else {
                d.useSurge = min(d.maxSurge, updateSurge)
                d.useSurgeOldRevision = min(d.useSurge, updateOldRevisionSurge)
            }
        }

        let scaleNum = replicas + d.useSurge - active
        if scaleNum > 0 {
            d.scaleUpNum = scaleNum
            if !i.sameRevision {
                d.scaleUpNumOldRevision = min(scaleNum, max(d.partition + d.useSurgeOldRevision - i.oldActive, 0))
            }
            if let limit = i.scaleMaxUnavailable, !limit.isNull {
                let scaleMaxUnavailable = self.resolve(limit, total: replicas, roundUp: true)
                d.scaleUpLimit = max(scaleMaxUnavailable - totalUnavailable, 0)
            }
        } else if scaleNum < 0 {
            d.scaleDownNum = -scaleNum
            d.scaleDownNumOldRevision = max(i.oldActive - d.partition - d.useSurgeOldRevision, 0)
        }
        d.deleteReadyLimit = max(d.maxUnavailable + (active - replicas) - totalUnavailable, 0)

        if abs(updateOldDiff) <= abs(updateNewDiff) {
            d.updateNum = updateOldDiff
        } else {
            d.updateNum = -updateNewDiff
        }
        if d.updateNum != 0 {
            d.updateMaxUnavailable = d.maxUnavailable + active - replicas
        }
        return d
    }

    /// Kruise's revision hash: FNV-1a (32 bit) of the template, its decimal digits mapped onto the
    /// "safe" alphabet (e.g. `56dfb978d4`).
    static func revisionHash(_ template: JSONValue) -> String {
        var hash: UInt32 = 2_166_136_261
        for byte in template.serialized() {
            hash ^= UInt32(byte)
            hash = hash &* 16_777_619
        }
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
        return String(String(hash).utf8.map { alphabet[Int($0) % alphabet.count] })
    }
}
