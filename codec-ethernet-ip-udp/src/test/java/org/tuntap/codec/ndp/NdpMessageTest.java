package org.tuntap.codec.ndp;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import org.junit.jupiter.api.Test;
import org.tuntap.codec.DropReason;
import org.tuntap.codec.TestPackets;
import org.tuntap.codec.ethernet.MacAddress;
import org.tuntap.codec.icmp.Icmpv6Types;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.tuntap.codec.ndp.NdpPackets.high;
import static org.tuntap.codec.ndp.NdpPackets.linkLayerOption;
import static org.tuntap.codec.ndp.NdpPackets.low;
import static org.tuntap.codec.ndp.NdpPackets.packet;

/** The neighbour solicitation/advertisement view and builder, and every check RFC 4861 section 7.1 asks for. */
class NdpMessageTest {

    private static final int NS = Icmpv6Types.NEIGHBOUR_SOLICITATION;
    private static final int NA = Icmpv6Types.NEIGHBOUR_ADVERTISEMENT;

    private static DropReason check(byte[] packet) {
        ByteBuf buf = TestPackets.tracked(packet);
        try {
            return NdpMessage.check(buf, 0, 40, packet.length - 40);
        } finally {
            buf.release();
        }
    }

    @Test
    void theBuilderWritesWhatTheReferenceSaysAndTheViewReadsIt() {
        ByteBuf out = PooledByteBufAllocator.DEFAULT.heapBuffer();
        try {
            new NdpRepr().advertisement(high("2001:db8::2"), low("2001:db8::2"), 0x020000000002L,
                            NdpMessage.FLAG_SOLICITED | NdpMessage.FLAG_OVERRIDE)
                    .addresses(high("2001:db8::2"), low("2001:db8::2"), high("2001:db8::1"), low("2001:db8::1"))
                    .emitPacket(out);
            byte[] built = ByteBufUtil.getBytes(out);
            byte[] expected = packet("2001:db8::2", "2001:db8::1", NA, 0x60, "2001:db8::2", linkLayerOption(2, "020000000002"));
            assertEquals(NdpPackets.hex(expected), NdpPackets.hex(built), "header, flags, target, option, checksum");
            assertEquals(0, NdpPackets.checksum(built), "the reference sum verifies it");
            assertNull(NdpMessage.check(out, 0, 40, 32));
            assertEquals(NA, NdpMessage.type(out, 40));
            assertEquals(NdpMessage.FLAG_SOLICITED | NdpMessage.FLAG_OVERRIDE, NdpMessage.flags(out, 40));
            assertEquals(high("2001:db8::2"), NdpMessage.targetHigh(out, 40));
            assertEquals(low("2001:db8::2"), NdpMessage.targetLow(out, 40));
            assertEquals(0x020000000002L, NdpMessage.linkLayerAddress(out, 40, 32, NdpMessage.TARGET_LINK_LAYER_ADDRESS));
            assertEquals(-1, NdpMessage.linkLayerAddress(out, 40, 32, NdpMessage.SOURCE_LINK_LAYER_ADDRESS));
        } finally {
            out.release();
        }
    }

    @Test
    void aDuplicateAddressProbeHasNoLinkLayerOption() {
        ByteBuf out = PooledByteBufAllocator.DEFAULT.heapBuffer();
        try {
            NdpRepr repr = new NdpRepr().solicitation(high("2001:db8::2"), low("2001:db8::2"), -1)
                    .addresses(0, 0, Ipv6Multicast.LINK_LOCAL_HIGH, Ipv6Multicast.solicitedNodeLow(low("2001:db8::2")));
            assertEquals(64, repr.packetLength());
            repr.emitPacket(out);
            assertEquals(NdpPackets.hex(packet("::", "ff02::1:ff00:2", NS, 0, "2001:db8::2", "")),
                    ByteBufUtil.hexDump(out));
            assertNull(NdpMessage.check(out, 0, 40, 24));
        } finally {
            out.release();
        }
    }

    @Test
    void multicastAddressesMapAsTheRfcsSay() {
        assertEquals(high("ff02::1:ffab:cdef"), Ipv6Multicast.LINK_LOCAL_HIGH);
        assertEquals(low("ff02::1:ffab:cdef"), Ipv6Multicast.solicitedNodeLow(low("2001:db8::12ab:cdef")));
        assertTrue(Ipv6Multicast.isSolicitedNode(high("ff02::1:ff00:2"), low("ff02::1:ff00:2")));
        assertEquals(false, Ipv6Multicast.isSolicitedNode(high("ff02::1"), low("ff02::1")));
        assertEquals(MacAddress.parse("33:33:ff:ab:cd:ef").bits(), Ipv6Multicast.macAddress(low("ff02::1:ffab:cdef")));
        assertEquals(MacAddress.parse("33:33:00:00:00:01").bits(), Ipv6Multicast.macAddress(Ipv6Multicast.ALL_NODES_LOW));
    }

    @Test
    void validMessagesPass() {
        assertNull(check(packet("2001:db8::1", "ff02::1:ff00:2", NS, 0, "2001:db8::2", linkLayerOption(1, "00005e005301"))));
        assertNull(check(packet("fe80::1", "2001:db8::2", NS, 0, "2001:db8::2", "")), "unicast, no option");
        assertNull(check(packet("2001:db8::1", "ff02::1", NA, 0x20, "2001:db8::1", linkLayerOption(2, "00005e005301"))),
                "unsolicited to all nodes");
        assertNull(check(packet("2001:db8::1", "ff02::1:ff00:2", NS, 0, "2001:db8::2",
                "0e01010203040506" + linkLayerOption(1, "00005e005301"))), "an unknown option (a nonce) is skipped");
        assertNull(check(packet("2001:db8::1", "ff02::1:ff00:2", NS, 0, "2001:db8::2",
                linkLayerOption(1, "00005e005301") + "1302" + "00".repeat(14))),
                "a two-unit option of another type");
    }

    @Test
    void everyMalformationIsRefused() {
        String sll = linkLayerOption(1, "00005e005301");
        byte[] valid = packet("2001:db8::1", "ff02::1:ff00:2", NS, 0, "2001:db8::2", sll);

        for (int length = 0; length < 24; length++) {
            byte[] cut = Arrays.copyOf(valid, 40 + length);
            assertEquals(DropReason.TRUNCATED, check(cut), "ICMPv6 message of " + length + " bytes");
        }
        byte[] badChecksum = valid.clone();
        badChecksum[43] ^= 1;
        assertEquals(DropReason.BAD_CHECKSUM, check(badChecksum));
        byte[] corrupt = valid.clone();
        corrupt[70] ^= 0x10; // a bit of the option's MAC, checksum left as it was
        assertEquals(DropReason.BAD_CHECKSUM, check(corrupt));

        byte[] routed = valid.clone();
        routed[7] = (byte) 254; // crossed a router: not from the link (RFC 4861 7.1.1)
        assertEquals(DropReason.BAD_NEIGHBOUR_DISCOVERY, check(routed), "hop limit 254");
        byte[] hop64 = valid.clone();
        hop64[7] = 64;
        assertEquals(DropReason.BAD_NEIGHBOUR_DISCOVERY, check(hop64), "hop limit 64");
        byte[] code = valid.clone();
        code[41] = 1;
        NdpPackets.fixChecksum(code);
        assertEquals(DropReason.BAD_NEIGHBOUR_DISCOVERY, check(code), "code 1");

        String[][] bad = {
                {"2001:db8::1", "ff02::1:ff00:2", "135", "ff02::1", sll, "multicast target"},
                {"2001:db8::1", "ff02::1:ff00:2", "135", "2001:db8::2", "0100" + "00005e005301", "option of length 0"},
                {"2001:db8::1", "ff02::1:ff00:2", "135", "2001:db8::2", "0e00" + "000000000000" + sll, "unknown option of length 0"},
                {"2001:db8::1", "ff02::1:ff00:2", "135", "2001:db8::2", "0102" + "00005e005301" + "0000000000000000", "16-byte link-layer option"},
                {"2001:db8::1", "ff02::1:ff00:2", "135", "2001:db8::2", sll + sll, "two source link-layer options"},
                {"2001:db8::1", "ff02::1:ff00:2", "135", "2001:db8::2", "0e02" + "00".repeat(6), "option running past the message"},
                {"2001:db8::1", "ff02::1:ff00:2", "135", "2001:db8::2", "01", "a byte of option"},
                {"::", "ff02::1:ff00:2", "135", "2001:db8::2", sll, "duplicate address probe with a link-layer option"},
                {"::", "2001:db8::2", "135", "2001:db8::2", "", "duplicate address probe not to the solicited-node address"},
                {"ff02::5", "ff02::1:ff00:2", "135", "2001:db8::2", sll, "multicast source"},
                {"2001:db8::1", "ff02::1", "136:64", "2001:db8::1", linkLayerOption(2, "00005e005301"), "solicited advertisement to a group"},
                {"2001:db8::1", "2001:db8::2", "136", "2001:db8::1", linkLayerOption(2, "00005e005301") + linkLayerOption(2, "00005e005302"), "two target options"},
        };
        for (String[] c : bad) {
            String[] typeAndFlags = c[2].split(":");
            byte[] p = packet(c[0], c[1], Integer.parseInt(typeAndFlags[0]),
                    typeAndFlags.length > 1 ? Integer.parseInt(typeAndFlags[1]) : 0, c[3], c[4]);
            assertEquals(DropReason.BAD_NEIGHBOUR_DISCOVERY, check(p), c[5]);
        }
        byte[] echo = valid.clone();
        echo[40] = (byte) Icmpv6Types.ECHO_REQUEST;
        NdpPackets.fixChecksum(echo);
        assertEquals(DropReason.BAD_NEIGHBOUR_DISCOVERY, check(echo), "not a neighbour message at all");
    }

    @Test
    void theOptionLookupNeverLoopsOnUncheckedInput() {
        byte[] zero = packet("2001:db8::1", "2001:db8::2", NS, 0, "2001:db8::2", "0e00000000000000");
        ByteBuf buf = TestPackets.tracked(zero);
        try {
            assertEquals(-1, NdpMessage.linkLayerAddress(buf, 40, zero.length - 40, NdpMessage.SOURCE_LINK_LAYER_ADDRESS));
        } finally {
            buf.release();
        }
    }
}
