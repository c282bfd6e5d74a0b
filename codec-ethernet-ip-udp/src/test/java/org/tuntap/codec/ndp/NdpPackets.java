package org.tuntap.codec.ndp;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import org.tuntap.codec.TestPackets;
import org.tuntap.codec.ipv6.Ipv6Addresses;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;

/** Neighbour discovery packets for tests: built by hand, checksums by the naive reference sum. */
public final class NdpPackets {

    private NdpPackets() {
    }

    public static Inet6Address v6(String literal) {
        try {
            return (Inet6Address) InetAddress.getByName(literal);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    /**
     * An IPv6 packet (hop limit 255, next header 58) carrying an ICMPv6 message of this type,
     * the 4 flag/reserved bytes, the target and the options (hex), checksum set by
     * {@link #fixChecksum}.
     */
    public static byte[] packet(String source, String destination, int type, int flagByte, String target, String optionsHex) {
        byte[] options = TestPackets.bytes(optionsHex);
        byte[] packet = new byte[40 + 24 + options.length];
        packet[0] = 0x60;
        int length = 24 + options.length;
        packet[4] = (byte) (length >>> 8);
        packet[5] = (byte) length;
        packet[6] = 58;
        packet[7] = (byte) 255;
        System.arraycopy(v6(source).getAddress(), 0, packet, 8, 16);
        System.arraycopy(v6(destination).getAddress(), 0, packet, 24, 16);
        packet[40] = (byte) type;
        packet[44] = (byte) flagByte;
        System.arraycopy(v6(target).getAddress(), 0, packet, 48, 16);
        System.arraycopy(options, 0, packet, 64, options.length);
        fixChecksum(packet);
        return packet;
    }

    /** Recomputes the ICMPv6 checksum of a packet with no extension headers (message at 40). */
    public static void fixChecksum(byte[] packet) {
        packet[42] = 0;
        packet[43] = 0;
        int checksum = checksum(packet);
        packet[42] = (byte) (checksum >>> 8);
        packet[43] = (byte) checksum;
    }

    /** The reference checksum of the message at 40 (checksum field included as it stands): 0 when it verifies. */
    public static int checksum(byte[] packet) {
        int length = packet.length - 40;
        byte[] pseudo = new byte[40 + length];
        System.arraycopy(packet, 8, pseudo, 0, 32);
        pseudo[34] = (byte) (length >>> 8);
        pseudo[35] = (byte) length;
        pseudo[39] = 58;
        System.arraycopy(packet, 40, pseudo, 40, length);
        return TestPackets.naiveChecksum(pseudo, 0, pseudo.length);
    }

    /** An Ethernet frame (destination MAC, source MAC as 12 hex digits each) of type IPv6 around {@code packet}. */
    public static ByteBuf frame(String destinationMac, String sourceMac, byte[] packet) {
        return PooledByteBufAllocator.DEFAULT.heapBuffer()
                .writeBytes(TestPackets.bytes(destinationMac + sourceMac + "86dd")).writeBytes(packet);
    }

    /** The MAC option: type (1 source, 2 target), length 1, the 6 bytes. */
    public static String linkLayerOption(int type, String mac) {
        return String.format("%02x01", type) + mac;
    }

    public static String hex(byte[] bytes) {
        return ByteBufUtil.hexDump(bytes);
    }

    /** The address's 16 bytes in hex. */
    public static String hex(Inet6Address address) {
        return hex(address.getAddress());
    }

    static long high(String literal) {
        return Ipv6Addresses.high(v6(literal));
    }

    static long low(String literal) {
        return Ipv6Addresses.low(v6(literal));
    }
}
