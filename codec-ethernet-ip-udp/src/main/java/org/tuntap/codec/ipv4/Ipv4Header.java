package org.tuntap.codec.ipv4;

import io.netty.buffer.ByteBuf;
import org.tuntap.codec.DropReason;
import org.tuntap.codec.checksum.InternetChecksum;

/**
 * The IPv4 header (RFC 791) read in place: static accessors taking the buffer and the index
 * where the header starts, and {@link #check} to validate a packet once before reading it.
 * Nothing here allocates.
 */
public final class Ipv4Header {

    /** Header length without options. */
    public static final int MIN_LENGTH = 20;
    /** Header length with the most options (IHL 15). */
    public static final int MAX_LENGTH = 60;
    /** Largest total length. */
    public static final int MAX_TOTAL_LENGTH = 0xFFFF;
    /** Protocol number of UDP. */
    public static final int PROTOCOL_UDP = 17;

    // Where each field is, from the start of the header: the byte accessors here and the word
    // accessors of Ipv4FixedHeader read them from these.
    static final int VERSION_IHL = 0;
    static final int TOS = 1;
    static final int TOTAL_LENGTH = 2;
    static final int IDENTIFICATION = 4;
    static final int FLAGS_FRAGMENT = 6;
    static final int TTL = 8;
    static final int PROTOCOL = 9;
    static final int CHECKSUM = 10;
    static final int SOURCE = 12;
    static final int DESTINATION = 16;

    static final int FLAG_DF = 0x4000;
    static final int FLAG_MF = 0x2000;
    static final int OFFSET_MASK = 0x1FFF;

    private Ipv4Header() {
    }

    /**
     * Validates the IPv4 packet of {@code length} bytes at {@code index}: version 4, at least 20
     * bytes, IHL at least 5 and within the data, total length at least the header and at most the
     * data, and (if asked) the header checksum.
     *
     * @return null if valid, else why not
     */
    public static DropReason check(ByteBuf buf, int index, int length, boolean verifyChecksum) {
        if (length < 1) {
            return DropReason.TRUNCATED;
        }
        if (version(buf, index) != 4) {
            return DropReason.BAD_VERSION;
        }
        if (length < MIN_LENGTH) {
            return DropReason.TRUNCATED;
        }
        int headerLength = headerLength(buf, index);
        if (headerLength < MIN_LENGTH) {
            return DropReason.BAD_HEADER_LENGTH;
        }
        if (headerLength > length) {
            return DropReason.TRUNCATED;
        }
        int totalLength = totalLength(buf, index);
        if (totalLength < headerLength || totalLength > length) {
            return DropReason.BAD_LENGTH;
        }
        if (verifyChecksum && InternetChecksum.checksum(buf, index, headerLength) != 0) {
            return DropReason.BAD_CHECKSUM;
        }
        return null;
    }

    /** The version field (4 for IPv4). */
    public static int version(ByteBuf buf, int index) {
        return buf.getUnsignedByte(index + VERSION_IHL) >>> 4;
    }

    /** IHL in 32-bit words. */
    public static int ihl(ByteBuf buf, int index) {
        return buf.getUnsignedByte(index + VERSION_IHL) & 0x0F;
    }

    /** Header length in bytes (IHL * 4). */
    public static int headerLength(ByteBuf buf, int index) {
        return ihl(buf, index) << 2;
    }

    /** Differentiated services code point, 0..63. */
    public static int dscp(ByteBuf buf, int index) {
        return buf.getUnsignedByte(index + TOS) >>> 2;
    }

    /** Explicit congestion notification bits, 0..3. */
    public static int ecn(ByteBuf buf, int index) {
        return buf.getUnsignedByte(index + TOS) & 0x03;
    }

    /** Header plus payload, in bytes. */
    public static int totalLength(ByteBuf buf, int index) {
        return buf.getUnsignedShort(index + TOTAL_LENGTH);
    }

    /** The identification field, shared by a datagram's fragments. */
    public static int identification(ByteBuf buf, int index) {
        return buf.getUnsignedShort(index + IDENTIFICATION);
    }

    /** The three flag bits (reserved, DF, MF) as a number 0..7. */
    public static int flags(ByteBuf buf, int index) {
        return buf.getUnsignedShort(index + FLAGS_FRAGMENT) >>> 13;
    }

    /** The DF flag: routers must not fragment this packet. */
    public static boolean dontFragment(ByteBuf buf, int index) {
        return (buf.getUnsignedShort(index + FLAGS_FRAGMENT) & FLAG_DF) != 0;
    }

    /** The MF flag: more fragments of this datagram follow. */
    public static boolean moreFragments(ByteBuf buf, int index) {
        return (buf.getUnsignedShort(index + FLAGS_FRAGMENT) & FLAG_MF) != 0;
    }

    /** Fragment offset in units of 8 bytes. */
    public static int fragmentOffset(ByteBuf buf, int index) {
        return buf.getUnsignedShort(index + FLAGS_FRAGMENT) & OFFSET_MASK;
    }

    /** True for any fragment of a fragmented datagram (MF set or non-zero offset). */
    public static boolean isFragment(ByteBuf buf, int index) {
        return (buf.getUnsignedShort(index + FLAGS_FRAGMENT) & (FLAG_MF | OFFSET_MASK)) != 0;
    }

    /** Time to live. */
    public static int ttl(ByteBuf buf, int index) {
        return buf.getUnsignedByte(index + TTL);
    }

    /** The payload's protocol number (17 for UDP). */
    public static int protocol(ByteBuf buf, int index) {
        return buf.getUnsignedByte(index + PROTOCOL);
    }

    /** The header checksum field as stored. */
    public static int headerChecksum(ByteBuf buf, int index) {
        return buf.getUnsignedShort(index + CHECKSUM);
    }

    /** The source address, as a big-endian int. */
    public static int source(ByteBuf buf, int index) {
        return buf.getInt(index + SOURCE);
    }

    /** The destination address, as a big-endian int. */
    public static int destination(ByteBuf buf, int index) {
        return buf.getInt(index + DESTINATION);
    }

    /** Writes the identification field of the header at {@code index} (taken modulo 2^16). */
    public static void setIdentification(ByteBuf buf, int index, int identification) {
        buf.setShort(index + IDENTIFICATION, identification);
    }

    /** Writes the total length field of the header at {@code index}. */
    public static void setTotalLength(ByteBuf buf, int index, int totalLength) {
        buf.setShort(index + TOTAL_LENGTH, totalLength);
    }

    /**
     * Makes the header at {@code index} that of a whole datagram: more-fragments and the offset
     * cleared, the other flag bits kept (what a reassembled datagram's header says).
     */
    public static void clearFragment(ByteBuf buf, int index) {
        buf.setShort(index + FLAGS_FRAGMENT, buf.getUnsignedShort(index + FLAGS_FRAGMENT) & ~(FLAG_MF | OFFSET_MASK));
    }

    /** Sets the fragment field of the header at {@code index}: more-fragments and the offset in 8-byte units. */
    public static void setFragment(ByteBuf buf, int index, boolean moreFragments, int offsetUnits) {
        int kept = buf.getUnsignedShort(index + FLAGS_FRAGMENT) & ~(FLAG_MF | OFFSET_MASK);
        buf.setShort(index + FLAGS_FRAGMENT, kept | (moreFragments ? FLAG_MF : 0) | (offsetUnits & OFFSET_MASK));
    }

    /** Recomputes the header checksum of the header at {@code index} in place, after fields changed. */
    public static void updateChecksum(ByteBuf buf, int index) {
        buf.setShort(index + CHECKSUM, 0);
        buf.setShort(index + CHECKSUM, InternetChecksum.checksum(buf, index, headerLength(buf, index)));
    }
}
