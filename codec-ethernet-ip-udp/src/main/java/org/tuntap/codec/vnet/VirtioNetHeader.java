package org.tuntap.codec.vnet;

import io.netty.buffer.ByteBuf;

/**
 * The {@code struct virtio_net_hdr} in front of every packet of a {@code TunChannel} with
 * the transport's {@code VNET_HDR} option on: a typed view over the 10 bytes at an index of a
 * {@link ByteBuf} (static accessors, no copy), and the writers for building one. The layout lives
 * here only.
 *
 * <pre>
 * offset 0  u8  flags        NEEDS_CSUM 1, DATA_VALID 2
 *        1  u8  gso_type     NONE 0, TCPV4 1, UDP 3, TCPV6 4, UDP_L4 5, | ECN 0x80
 *        2  u16 hdr_len      bytes of headers (L3 + L4) before the payload; not to be trusted on read
 *        4  u16 gso_size     payload bytes per segment of a super-packet
 *        6  u16 csum_start   where the checksum to complete starts (the L4 header)
 *        8  u16 csum_offset  where, from csum_start, the checksum field is (TCP 16, UDP 6)
 * </pre>
 *
 * The 16-bit fields are little-endian: the legacy header is in the CPU's byte order, and the
 * native layer runs on x86_64 and aarch64 only, both little-endian (virtio 1.0 is little-endian
 * too, so {@code TUNSETVNETLE} would change nothing).
 *
 * <p>With the {@code PACKET_INFO} option on as well, the 4-byte PI header comes first and
 * this header after it, as the kernel lays them out.
 */
public final class VirtioNetHeader {
    /** {@code sizeof(struct virtio_net_hdr)}: the header size the channel sets ({@code TUNSETVNETHDRSZ}). */
    public static final int LENGTH = 10;

    /** flags: the checksum at {@code csum_start + csum_offset} holds only the pseudo-header sum; finish it. */
    public static final int FLAG_NEEDS_CSUM = 1;
    /** flags: the kernel has verified the checksum. */
    public static final int FLAG_DATA_VALID = 2;

    /** gso_type: an ordinary packet. */
    public static final int GSO_NONE = 0;
    /** gso_type: an IPv4 TCP super-packet. */
    public static final int GSO_TCPV4 = 1;
    /** gso_type: UDP fragmentation offload (UFO, legacy). */
    public static final int GSO_UDP = 3;
    /** gso_type: an IPv6 TCP super-packet. */
    public static final int GSO_TCPV6 = 4;
    /** gso_type: a UDP super-packet, segmented into datagrams of {@code gso_size} (USO). */
    public static final int GSO_UDP_L4 = 5;
    /** gso_type bit: the TCP super-packet has CWR set (TSO with ECN). */
    public static final int GSO_ECN = 0x80;

    private static final int FLAGS = 0;
    private static final int GSO_TYPE = 1;
    private static final int HDR_LEN = 2;
    private static final int GSO_SIZE = 4;
    private static final int CSUM_START = 6;
    private static final int CSUM_OFFSET = 8;

    private VirtioNetHeader() {
    }

    /** The flags byte ({@link #FLAG_NEEDS_CSUM}, {@link #FLAG_DATA_VALID}). */
    public static int flags(ByteBuf buf, int index) {
        return buf.getUnsignedByte(index + FLAGS);
    }

    /** Whether the packet's L4 checksum is partial and must be completed before it leaves the host. */
    public static boolean needsChecksum(ByteBuf buf, int index) {
        return (flags(buf, index) & FLAG_NEEDS_CSUM) != 0;
    }

    /** The whole gso_type byte, the {@link #GSO_ECN} bit included. */
    public static int gsoType(ByteBuf buf, int index) {
        return buf.getUnsignedByte(index + GSO_TYPE);
    }

    /** The gso_type without the {@link #GSO_ECN} bit: {@link #GSO_NONE}, {@link #GSO_TCPV4}, ... */
    public static int gsoProtocol(ByteBuf buf, int index) {
        return gsoType(buf, index) & ~GSO_ECN;
    }

    /** Whether the packet is a super-packet (gso_type other than NONE). */
    public static boolean isGso(ByteBuf buf, int index) {
        return gsoProtocol(buf, index) != GSO_NONE;
    }

    /** hdr_len; the kernel's value is a hint only, recompute it from the packet's headers. */
    public static int hdrLen(ByteBuf buf, int index) {
        return buf.getUnsignedShortLE(index + HDR_LEN);
    }

    /** gso_size: payload bytes per segment. */
    public static int gsoSize(ByteBuf buf, int index) {
        return buf.getUnsignedShortLE(index + GSO_SIZE);
    }

    /** csum_start: offset of the checksummed region from the start of the packet (after this header). */
    public static int csumStart(ByteBuf buf, int index) {
        return buf.getUnsignedShortLE(index + CSUM_START);
    }

    /** csum_offset: offset of the checksum field from {@code csum_start}. */
    public static int csumOffset(ByteBuf buf, int index) {
        return buf.getUnsignedShortLE(index + CSUM_OFFSET);
    }

    /** Sets every field of the header at {@code index} (indexes unchanged). */
    public static void set(ByteBuf buf, int index, int flags, int gsoType, int hdrLen, int gsoSize,
                           int csumStart, int csumOffset) {
        buf.setByte(index + FLAGS, flags);
        buf.setByte(index + GSO_TYPE, gsoType);
        buf.setShortLE(index + HDR_LEN, hdrLen);
        buf.setShortLE(index + GSO_SIZE, gsoSize);
        buf.setShortLE(index + CSUM_START, csumStart);
        buf.setShortLE(index + CSUM_OFFSET, csumOffset);
    }

    /** Appends a header with every field set, for a super-packet or a partial checksum. */
    public static ByteBuf write(ByteBuf buf, int flags, int gsoType, int hdrLen, int gsoSize,
                                int csumStart, int csumOffset) {
        buf.ensureWritable(LENGTH);
        set(buf, buf.writerIndex(), flags, gsoType, hdrLen, gsoSize, csumStart, csumOffset);
        return buf.writerIndex(buf.writerIndex() + LENGTH);
    }

    /**
     * Appends the empty header (all zeros: no GSO, checksums complete) that goes in front of an
     * ordinary packet written to a channel with the transport's {@code VNET_HDR} option on.
     *
     * @return {@code buf}
     */
    public static ByteBuf writeEmpty(ByteBuf buf) {
        return buf.writeZero(LENGTH);
    }

    /** A one-line description for logs and assertion messages. */
    public static String toString(ByteBuf buf, int index) {
        return "virtio_net_hdr(flags=" + flags(buf, index) + ", gso_type=0x" + Integer.toHexString(gsoType(buf, index))
                + ", hdr_len=" + hdrLen(buf, index) + ", gso_size=" + gsoSize(buf, index)
                + ", csum_start=" + csumStart(buf, index) + ", csum_offset=" + csumOffset(buf, index) + ")";
    }
}
