package org.tuntap.codec.checksum;

/**
 * Whether a layer verifies checksums of inbound packets and computes them for outbound ones
 * (like smoltcp's {@code ChecksumCapabilities}, one per layer). Switch them off when something
 * else does the work: a trusted in-memory peer, or checksum offload of the device.
 *
 * <p>With {@code compute} off, IPv4 headers go out with checksum 0 and UDP datagrams with 0
 * ("no checksum", legal for UDP over IPv4).
 */
public record ChecksumPolicy(boolean verify, boolean compute) {

    /** Verify inbound, compute outbound: the default of every codec. */
    public static final ChecksumPolicy BOTH = new ChecksumPolicy(true, true);
    /** Neither verify nor compute. */
    public static final ChecksumPolicy NONE = new ChecksumPolicy(false, false);
    /** Verify inbound only (outbound checksums left 0). */
    public static final ChecksumPolicy VERIFY_ONLY = new ChecksumPolicy(true, false);
    /** Compute outbound only (inbound trusted). */
    public static final ChecksumPolicy COMPUTE_ONLY = new ChecksumPolicy(false, true);
}
