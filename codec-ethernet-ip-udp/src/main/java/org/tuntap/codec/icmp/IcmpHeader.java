package org.tuntap.codec.icmp;

import io.netty.buffer.ByteBuf;
import org.tuntap.codec.DropReason;
import org.tuntap.codec.checksum.InternetChecksum;

/**
 * The ICMP header, read and written in place; ICMPv4 (RFC 792) and ICMPv6 (RFC 4443) share it:
 * type, code, checksum, then 4 bytes whose meaning depends on the type (identifier and sequence
 * of an echo, the MTU of "fragmentation needed" or "packet too big"), then the body (echo data,
 * or as much of the invoking packet as fits in an error). The type numbers are in
 * {@link Icmpv4Types} and {@link Icmpv6Types}. Only the checksum differs: ICMPv6 covers the IPv6
 * pseudo-header too.
 */
public final class IcmpHeader {

    /** Type, code, checksum and the 4 type-specific bytes. */
    public static final int LENGTH = 8;

    private IcmpHeader() {
    }

    /**
     * Validates an ICMPv4 message of {@code length} bytes at {@code index}: at least a header and
     * (if asked) a checksum over the whole message that verifies.
     *
     * @return null if valid, else why not
     */
    public static DropReason checkIpv4(ByteBuf buf, int index, int length, boolean verifyChecksum) {
        return check(buf, index, length, 0, verifyChecksum);
    }

    /**
     * Validates an ICMPv6 message of {@code length} bytes at {@code index}, whose checksum covers
     * the pseudo-header of {@code pseudoHeaderSum} (e.g. {@code Ipv6Packet.pseudoHeaderSum(length)}).
     *
     * @return null if valid, else why not
     */
    public static DropReason checkIpv6(ByteBuf buf, int index, int length, long pseudoHeaderSum, boolean verifyChecksum) {
        return check(buf, index, length, pseudoHeaderSum, verifyChecksum);
    }

    private static DropReason check(ByteBuf buf, int index, int length, long initialSum, boolean verifyChecksum) {
        if (length < LENGTH) {
            return DropReason.TRUNCATED;
        }
        if (verifyChecksum && InternetChecksum.finish(InternetChecksum.add(initialSum, buf, index, length)) != 0) {
            return DropReason.BAD_CHECKSUM;
        }
        return null;
    }

    public static int type(ByteBuf buf, int index) {
        return buf.getUnsignedByte(index);
    }

    public static int code(ByteBuf buf, int index) {
        return buf.getUnsignedByte(index + 1);
    }

    public static int checksumField(ByteBuf buf, int index) {
        return buf.getUnsignedShort(index + 2);
    }

    /** Echo request/reply: the identifier. */
    public static int identifier(ByteBuf buf, int index) {
        return buf.getUnsignedShort(index + 4);
    }

    /** Echo request/reply: the sequence number. */
    public static int sequence(ByteBuf buf, int index) {
        return buf.getUnsignedShort(index + 6);
    }

    /** ICMPv4 "fragmentation needed" (type 3 code 4, RFC 1191): the next-hop MTU, 16 bits. */
    public static int nextHopMtu(ByteBuf buf, int index) {
        return buf.getUnsignedShort(index + 6);
    }

    /** ICMPv6 "packet too big" (type 2): the MTU, 32 bits (as a long: it is unsigned). */
    public static long packetTooBigMtu(ByteBuf buf, int index) {
        return buf.getUnsignedInt(index + 4);
    }

    /** ICMPv6 "parameter problem" (type 4): the offset of the error in the invoking packet. */
    public static long pointer(ByteBuf buf, int index) {
        return buf.getUnsignedInt(index + 4);
    }

    /** Writes type, code, a zero checksum, identifier and sequence of an echo message. */
    public static void setEcho(ByteBuf buf, int index, int type, int identifier, int sequence) {
        buf.setByte(index, type);
        buf.setByte(index + 1, 0);
        buf.setShort(index + 2, 0);
        buf.setShort(index + 4, identifier);
        buf.setShort(index + 6, sequence);
    }

    /**
     * Computes and stores the checksum of the {@code length}-byte message at {@code index}, whose
     * checksum field must be 0: pass 0 as {@code initialSum} for ICMPv4, the IPv6 pseudo-header
     * sum for ICMPv6.
     */
    public static void setChecksum(ByteBuf buf, int index, int length, long initialSum) {
        buf.setShort(index + 2, InternetChecksum.finish(InternetChecksum.add(initialSum, buf, index, length)));
    }

    /**
     * Changes the type of the message in place and updates its checksum incrementally (RFC 1624):
     * how an echo request becomes its reply without reading the data again.
     */
    public static void changeType(ByteBuf buf, int index, int type) {
        int oldWord = buf.getUnsignedShort(index);
        int newWord = (type & 0xFF) << 8 | (oldWord & 0xFF);
        buf.setByte(index, type);
        buf.setShort(index + 2, InternetChecksum.update(checksumField(buf, index), oldWord, newWord));
    }
}
