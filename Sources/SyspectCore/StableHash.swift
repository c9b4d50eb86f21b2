/// FNV-1a 64-bit: a hash that is the same in every process and build (Swift's `Hasher` is
/// seeded per process), for keys, digests, lock names and folder names.
public func fnv1a64(_ text: String) -> UInt64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
    return hash
}

/// `fnv1a64` as 16 hex digits.
public func stableHash(_ text: String) -> String {
    let hex = String(fnv1a64(text), radix: 16)
    return String(repeating: "0", count: 16 - hex.count) + hex
}
