package org.tuntap.codec.ipv6;

import io.netty.buffer.ByteBuf;

/**
 * The IPv6 extension headers (RFC 8200 section 4) read and written in place. Hop-by-hop
 * options, routing and destination options share one layout (next header, length in 8-byte
 * units not counting the first 8, data); the fragment header is 8 bytes: next header, reserved,
 * offset (13 bits, in 8-byte units) with the M flag in the low bit, identification.
 */
public final class Ipv6ExtensionHeader {

    /** The shortest extension header, and the length of a fragment header. */
    public static final int MIN_LENGTH = 8;
    /** The fragment header's length. */
    public static final int FRAGMENT_LENGTH = 8;

    private Ipv6ExtensionHeader() {
    }

    /**
     * Whether {@code nextHeader} names an extension header this module walks through: hop-by-hop
     * options, routing, fragment, destination options. Anything else is an upper-layer protocol
     * (so is AH, ESP, and {@link Ipv6Header#NO_NEXT_HEADER}).
     */
    public static boolean isWalked(int nextHeader) {
        return nextHeader == Ipv6Header.HOP_BY_HOP || nextHeader == Ipv6Header.ROUTING
                || nextHeader == Ipv6Header.FRAGMENT || nextHeader == Ipv6Header.DESTINATION_OPTIONS;
    }

    /** The header after this one. */
    public static int nextHeader(ByteBuf buf, int index) {
        return buf.getUnsignedByte(index);
    }

    /** Length in bytes of the extension header of type {@code type} at {@code index} (needs 2 bytes there). */
    public static int length(ByteBuf buf, int index, int type) {
        return type == Ipv6Header.FRAGMENT ? FRAGMENT_LENGTH : (buf.getUnsignedByte(index + 1) + 1) << 3;
    }

    /** Fragment header: offset of this fragment's data in the original payload, in 8-byte units. */
    public static int fragmentOffset(ByteBuf buf, int index) {
        return buf.getUnsignedShort(index + 2) >>> 3;
    }

    /** Fragment header: the M flag, more fragments follow. */
    public static boolean moreFragments(ByteBuf buf, int index) {
        return (buf.getUnsignedShort(index + 2) & 1) != 0;
    }

    /** Fragment header: the identification, as an int (compare, do not do arithmetic). */
    public static int fragmentIdentification(ByteBuf buf, int index) {
        return buf.getInt(index + 4);
    }

    /** Writes a fragment header at {@code index} (indices unchanged); reserved bits are 0. */
    public static void setFragment(ByteBuf buf, int index, int nextHeader, int offsetUnits, boolean moreFragments,
                                   int identification) {
        if (offsetUnits < 0 || offsetUnits > 0x1FFF) {
            throw new IllegalArgumentException("fragment offset must be within 0..8191 units: " + offsetUnits);
        }
        buf.setByte(index, nextHeader);
        buf.setByte(index + 1, 0);
        buf.setShort(index + 2, offsetUnits << 3 | (moreFragments ? 1 : 0));
        buf.setInt(index + 4, identification);
    }
}
