package org.tuntap.codec.arp;

import io.netty.buffer.ByteBuf;
import org.tuntap.codec.DropReason;
import org.tuntap.codec.EtherType;
import org.tuntap.codec.ethernet.MacAddress;

/**
 * An ARP packet for Ethernet and IPv4 (RFC 826), read and written in place: hardware type 1,
 * protocol 0x0800, lengths 6 and 4, operation, sender MAC/IP, target MAC/IP (28 bytes).
 */
public final class ArpPacket {

    /** Bytes in an Ethernet/IPv4 ARP packet. */
    public static final int LENGTH = 28;
    /** The operation of a request (who has the target IP?). */
    public static final int REQUEST = 1;
    /** The operation of a reply (the sender IP is at the sender MAC). */
    public static final int REPLY = 2;
    private static final int HARDWARE_ETHERNET = 1;

    private ArpPacket() {
    }

    /** Null if the ARP packet at {@code index} is an Ethernet/IPv4 request or reply, else why not. */
    public static DropReason check(ByteBuf buf, int index, int length) {
        if (length < LENGTH) {
            return DropReason.TRUNCATED;
        }
        boolean ethernetIpv4 = buf.getUnsignedShort(index) == HARDWARE_ETHERNET
                && buf.getUnsignedShort(index + 2) == EtherType.IPV4
                && buf.getUnsignedByte(index + 4) == 6
                && buf.getUnsignedByte(index + 5) == 4;
        int operation = operation(buf, index);
        if (!ethernetIpv4 || (operation != REQUEST && operation != REPLY)) {
            return DropReason.UNSUPPORTED_ARP;
        }
        return null;
    }

    /** The operation: {@link #REQUEST}, {@link #REPLY} or another number. */
    public static int operation(ByteBuf buf, int index) {
        return buf.getUnsignedShort(index + 6);
    }

    /** The sender's MAC, as {@link MacAddress#bits()}. */
    public static long senderMac(ByteBuf buf, int index) {
        return MacAddress.readBits(buf, index + 8);
    }

    /** The sender's IPv4 address, as a big-endian int. */
    public static int senderIp(ByteBuf buf, int index) {
        return buf.getInt(index + 14);
    }

    /** The target's MAC, as {@link MacAddress#bits()} (zero in a request). */
    public static long targetMac(ByteBuf buf, int index) {
        return MacAddress.readBits(buf, index + 18);
    }

    /** The target's IPv4 address, as a big-endian int. */
    public static int targetIp(ByteBuf buf, int index) {
        return buf.getInt(index + 24);
    }

    /** Appends a 28-byte Ethernet/IPv4 ARP packet to {@code out}. */
    public static void write(ByteBuf out, int operation, long senderMac, int senderIp, long targetMac, int targetIp) {
        int at = out.writerIndex();
        out.ensureWritable(LENGTH);
        out.setShort(at, HARDWARE_ETHERNET);
        out.setShort(at + 2, EtherType.IPV4);
        out.setByte(at + 4, 6);
        out.setByte(at + 5, 4);
        out.setShort(at + 6, operation);
        MacAddress.writeBits(out, at + 8, senderMac);
        out.setInt(at + 14, senderIp);
        MacAddress.writeBits(out, at + 18, targetMac);
        out.setInt(at + 24, targetIp);
        out.writerIndex(at + LENGTH);
    }
}
