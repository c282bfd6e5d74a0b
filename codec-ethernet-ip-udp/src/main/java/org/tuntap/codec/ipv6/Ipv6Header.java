package org.tuntap.codec.ipv6;

import io.netty.buffer.ByteBuf;
import org.tuntap.codec.DropReason;

import java.net.Inet6Address;

/**
 * The fixed IPv6 header (RFC 8200 section 3) read in place: static accessors taking the buffer
 * and the index where the header starts, and {@link #check} to validate a packet once before
 * reading it. Extension headers are walked by {@link Ipv6ExtensionWalker}. Nothing here
 * allocates except {@link #source} and {@link #destination}.
 */
public final class Ipv6Header {

    /** The fixed header's length. */
    public static final int LENGTH = 40;
    /** Largest payload length (jumbograms, RFC 2675, are not supported). */
    public static final int MAX_PAYLOAD_LENGTH = 0xFFFF;

    /** Next-header numbers (IANA "Assigned Internet Protocol Numbers") this module knows. */
    public static final int HOP_BY_HOP = 0;
    public static final int PROTOCOL_TCP = 6;
    public static final int PROTOCOL_UDP = 17;
    public static final int ROUTING = 43;
    public static final int FRAGMENT = 44;
    public static final int PROTOCOL_ICMPV6 = 58;
    /** Nothing follows (RFC 8200 section 4.7). */
    public static final int NO_NEXT_HEADER = 59;
    public static final int DESTINATION_OPTIONS = 60;

    private Ipv6Header() {
    }

    /**
     * Validates the fixed header of the IPv6 packet of {@code length} bytes at {@code index}:
     * version 6, at least 40 bytes, and a payload length within the data (bytes after it are
     * link-layer padding, cut by the caller). Extension headers are not looked at.
     *
     * @return null if valid, else why not
     */
    public static DropReason check(ByteBuf buf, int index, int length) {
        if (length < 1) {
            return DropReason.TRUNCATED;
        }
        if (version(buf, index) != 6) {
            return DropReason.BAD_VERSION;
        }
        if (length < LENGTH) {
            return DropReason.TRUNCATED;
        }
        if (LENGTH + payloadLength(buf, index) > length) {
            return DropReason.BAD_LENGTH;
        }
        return null;
    }

    public static int version(ByteBuf buf, int index) {
        return buf.getUnsignedByte(index) >>> 4;
    }

    /** The 8-bit traffic class (DSCP and ECN). */
    public static int trafficClass(ByteBuf buf, int index) {
        return (buf.getUnsignedShort(index) >>> 4) & 0xFF;
    }

    public static int dscp(ByteBuf buf, int index) {
        return trafficClass(buf, index) >>> 2;
    }

    public static int ecn(ByteBuf buf, int index) {
        return trafficClass(buf, index) & 0x03;
    }

    /** The 20-bit flow label. */
    public static int flowLabel(ByteBuf buf, int index) {
        return buf.getInt(index) & 0xFFFFF;
    }

    /** Bytes after the fixed header: extension headers and upper-layer data. */
    public static int payloadLength(ByteBuf buf, int index) {
        return buf.getUnsignedShort(index + 4);
    }

    /** Writes the payload length field of the header at {@code index}. */
    public static void setPayloadLength(ByteBuf buf, int index, int payloadLength) {
        buf.setShort(index + 4, payloadLength);
    }

    /** The header after the fixed one: an extension header or the upper-layer protocol. */
    public static int nextHeader(ByteBuf buf, int index) {
        return buf.getUnsignedByte(index + 6);
    }

    public static int hopLimit(ByteBuf buf, int index) {
        return buf.getUnsignedByte(index + 7);
    }

    /** High 64 bits of the source address (see {@link Ipv6Addresses}). */
    public static long sourceHigh(ByteBuf buf, int index) {
        return buf.getLong(index + 8);
    }

    public static long sourceLow(ByteBuf buf, int index) {
        return buf.getLong(index + 16);
    }

    public static long destinationHigh(ByteBuf buf, int index) {
        return buf.getLong(index + 24);
    }

    public static long destinationLow(ByteBuf buf, int index) {
        return buf.getLong(index + 32);
    }

    public static Inet6Address source(ByteBuf buf, int index) {
        return Ipv6Addresses.toInet(sourceHigh(buf, index), sourceLow(buf, index));
    }

    public static Inet6Address destination(ByteBuf buf, int index) {
        return Ipv6Addresses.toInet(destinationHigh(buf, index), destinationLow(buf, index));
    }
}
