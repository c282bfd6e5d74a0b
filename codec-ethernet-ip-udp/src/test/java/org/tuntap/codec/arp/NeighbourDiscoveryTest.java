package org.tuntap.codec.arp;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelFuture;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.DatagramPacket;
import io.netty.handler.codec.DecoderException;
import org.junit.jupiter.api.Test;
import org.tuntap.codec.DropReason;
import org.tuntap.codec.TestPackets;
import org.tuntap.codec.ethernet.EthernetCodec;
import org.tuntap.codec.ethernet.MacAddress;
import org.tuntap.codec.icmp.IcmpEchoResponder;
import org.tuntap.codec.icmp.Icmpv6Types;
import org.tuntap.codec.ipv4.Ipv4Codec;
import org.tuntap.codec.ipv6.Ipv6Codec;
import org.tuntap.codec.ipv6.Ipv6Packet;
import org.tuntap.codec.ndp.NdpMessage;
import org.tuntap.codec.ndp.NdpPackets;
import org.tuntap.codec.udp.UdpCodec;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.tuntap.codec.ndp.NdpPackets.frame;
import static org.tuntap.codec.ndp.NdpPackets.linkLayerOption;
import static org.tuntap.codec.ndp.NdpPackets.packet;
import static org.tuntap.codec.ndp.NdpPackets.v6;

/**
 * Neighbour discovery (RFC 4861) in {@link ArpHandler}: solicitations for our IPv6 addresses
 * answered, neighbours learned only from solicitations and advertisements, outbound IPv6
 * resolved (or solicited, dropped and counted like ARP), malformed messages counted and never
 * answered, the IPv6 table bounded and aging.
 */
class NeighbourDiscoveryTest {

    private static final MacAddress APP_MAC = MacAddress.parse("02:00:00:00:00:02");
    private static final String APP_MAC_HEX = "020000000002";
    private static final String PEER_MAC_HEX = "00005e005301";
    private static final Inet6Address APP = v6("2001:db8::2");
    private static final int NS = Icmpv6Types.NEIGHBOUR_SOLICITATION;
    private static final int NA = Icmpv6Types.NEIGHBOUR_ADVERTISEMENT;

    private static ArpHandler handler() throws Exception {
        return new ArpHandler(APP_MAC, List.of(InetAddress.getByName("192.0.2.2"), APP));
    }

    /** Ethernet, ARP/NDP, IPv6, IPv4, UDP, ping: the TAP pipeline of both families. */
    private static EmbeddedChannel pipeline(ArpHandler arp) {
        return new EmbeddedChannel(new EthernetCodec(), arp, new Ipv6Codec(), new Ipv4Codec(),
                new UdpCodec(new InetSocketAddress("192.0.2.2", 7)).setDefaultLocalAddress(new InetSocketAddress(APP, 7)),
                new IcmpEchoResponder(List.of(APP)));
    }

    private static List<byte[]> written(EmbeddedChannel channel) {
        List<byte[]> out = new ArrayList<>();
        for (ByteBuf b; (b = channel.readOutbound()) != null; b.release()) {
            out.add(ByteBufUtil.getBytes(b));
        }
        return out;
    }

    private static String hex(byte[] bytes, int from, int to) {
        return ByteBufUtil.hexDump(bytes, from, to - from);
    }

    private static byte[] solicitation(String source, String destination, String target) {
        return packet(source, destination, NS, 0, target, linkLayerOption(1, PEER_MAC_HEX));
    }

    @Test
    void aSolicitationForOurAddressIsAnsweredToTheAskerAndTeachesIt() throws Exception {
        ArpHandler arp = handler();
        EmbeddedChannel channel = pipeline(arp);
        // The kernel asks the solicited-node group of 2001:db8::2 (33:33:ff:00:00:02), as Linux does.
        assertFalse(channel.writeInbound(frame("3333ff000002", PEER_MAC_HEX,
                solicitation("2001:db8::1", "ff02::1:ff00:2", "2001:db8::2"))));
        List<byte[]> out = written(channel);
        assertEquals(1, out.size());
        byte[] na = out.get(0);
        assertEquals(PEER_MAC_HEX + APP_MAC_HEX + "86dd", hex(na, 0, 14), "to the asker's link-layer address");
        byte[] packet = java.util.Arrays.copyOfRange(na, 14, na.length);
        assertEquals(NdpPackets.hex(packet("2001:db8::2", "2001:db8::1", NA, NdpMessage.FLAG_SOLICITED | NdpMessage.FLAG_OVERRIDE,
                "2001:db8::2", linkLayerOption(2, APP_MAC_HEX))), NdpPackets.hex(packet),
                "solicited and override, our MAC as the target's, hop limit 255, checksum by the reference sum");
        assertEquals(MacAddress.parse("00:00:5e:00:53:01"), arp.neighbour(v6("2001:db8::1")));
        assertEquals(0, arp.dropCounters().total());
        assertNull(channel.readInbound(), "consumed, like ARP");

        // Asked at our unicast address (a reachability probe), answered the same way.
        assertFalse(channel.writeInbound(frame(APP_MAC_HEX, PEER_MAC_HEX, solicitation("fe80::1", "2001:db8::2", "2001:db8::2"))));
        out = written(channel);
        assertEquals(1, out.size());
        assertEquals(PEER_MAC_HEX + APP_MAC_HEX + "86dd", hex(out.get(0), 0, 14));
        assertEquals(NdpPackets.hex(v6("fe80::1")), hex(out.get(0), 14 + 24, 14 + 40));
        assertFalse(channel.finish());
    }

    @Test
    void aDuplicateAddressProbeIsDefendedToAllNodes() throws Exception {
        ArpHandler arp = handler();
        EmbeddedChannel channel = pipeline(arp);
        assertFalse(channel.writeInbound(frame("3333ff000002", PEER_MAC_HEX,
                packet("::", "ff02::1:ff00:2", NS, 0, "2001:db8::2", ""))));
        List<byte[]> out = written(channel);
        assertEquals(1, out.size());
        assertEquals("333300000001" + APP_MAC_HEX + "86dd", hex(out.get(0), 0, 14));
        assertEquals(NdpPackets.hex(packet("2001:db8::2", "ff02::1", NA, NdpMessage.FLAG_OVERRIDE, "2001:db8::2",
                linkLayerOption(2, APP_MAC_HEX))), hex(out.get(0), 14, out.get(0).length), "not solicited");
        assertTrue(arp.neighbours().isEmpty(), "nothing to learn from the unspecified address");
        assertFalse(channel.finish());
    }

    @Test
    void solicitationsForOthersAreNotAnsweredButTeachAndAdvertisementsTeach() throws Exception {
        ArpHandler arp = handler();
        EmbeddedChannel channel = pipeline(arp);
        assertFalse(channel.writeInbound(frame("3333ff000003", PEER_MAC_HEX, solicitation("2001:db8::1", "ff02::1:ff00:3", "2001:db8::3"))));
        assertTrue(written(channel).isEmpty());
        assertEquals(MacAddress.parse("00:00:5e:00:53:01"), arp.neighbour(v6("2001:db8::1")));

        // An advertisement without override does not move a known address; with it, it does.
        assertFalse(channel.writeInbound(frame(APP_MAC_HEX, "00005e005302", packet("2001:db8::1", "2001:db8::2", NA,
                NdpMessage.FLAG_SOLICITED, "2001:db8::1", linkLayerOption(2, "00005e005302")))));
        assertEquals(MacAddress.parse("00:00:5e:00:53:01"), arp.neighbour(v6("2001:db8::1")));
        assertFalse(channel.writeInbound(frame(APP_MAC_HEX, "00005e005302", packet("2001:db8::1", "2001:db8::2", NA,
                NdpMessage.FLAG_SOLICITED | NdpMessage.FLAG_OVERRIDE, "2001:db8::1", linkLayerOption(2, "00005e005302")))));
        assertEquals(MacAddress.parse("00:00:5e:00:53:02"), arp.neighbour(v6("2001:db8::1")));
        // A new neighbour is learned from an unsolicited advertisement to all nodes.
        assertFalse(channel.writeInbound(frame("333300000001", "00005e005309", packet("2001:db8::9", "ff02::1", NA,
                NdpMessage.FLAG_OVERRIDE, "2001:db8::9", linkLayerOption(2, "00005e005309")))));
        assertEquals(MacAddress.parse("00:00:5e:00:53:09"), arp.neighbour(v6("2001:db8::9")));
        // Nobody may claim our own address, nor teach a group MAC.
        assertFalse(channel.writeInbound(frame("333300000001", "00005e005309", packet("2001:db8::9", "ff02::1", NA,
                NdpMessage.FLAG_OVERRIDE, "2001:db8::2", linkLayerOption(2, "00005e005309")))));
        assertFalse(channel.writeInbound(frame("333300000001", "00005e005309", packet("2001:db8::9", "ff02::1", NA,
                NdpMessage.FLAG_OVERRIDE, "2001:db8::8", linkLayerOption(2, "333300000001")))));
        assertNull(arp.neighbour(APP));
        assertNull(arp.neighbour(v6("2001:db8::8")));
        assertEquals(0, arp.dropCounters().total());
        assertTrue(written(channel).isEmpty());
        assertFalse(channel.finish());
    }

    @Test
    void malformedMessagesAreCountedNeverAnsweredNorLearned() throws Exception {
        ArpHandler arp = handler();
        EmbeddedChannel channel = pipeline(arp);
        String sll = linkLayerOption(1, PEER_MAC_HEX);
        byte[] valid = solicitation("2001:db8::1", "ff02::1:ff00:2", "2001:db8::2");
        List<byte[]> bad = new ArrayList<>();
        byte[] truncated = java.util.Arrays.copyOf(valid, 40 + 20);
        truncated[5] = 20; // payload length says so: a whole IPv6 packet with a 20-byte message
        NdpPackets.fixChecksum(truncated);
        bad.add(truncated);
        byte[] badChecksum = valid.clone();
        badChecksum[50] ^= 1;
        bad.add(badChecksum);
        byte[] hopLimit = valid.clone();
        hopLimit[7] = (byte) 254;
        bad.add(hopLimit);
        bad.add(packet("2001:db8::1", "ff02::1:ff00:2", NS, 0, "2001:db8::2", "0100" + PEER_MAC_HEX));
        bad.add(packet("2001:db8::1", "ff02::1:ff00:2", NS, 0, "2001:db8::2", sll + "0e02"));
        bad.add(packet("2001:db8::1", "ff02::1:ff00:2", NS, 0, "2001:db8::2", "0102" + PEER_MAC_HEX + "0000000000000000"));
        bad.add(packet("::", "ff02::1:ff00:2", NS, 0, "2001:db8::2", sll));
        bad.add(packet("2001:db8::1", "ff02::1", NA, NdpMessage.FLAG_SOLICITED | NdpMessage.FLAG_OVERRIDE, "2001:db8::1",
                linkLayerOption(2, PEER_MAC_HEX)));
        for (byte[] p : bad) {
            assertFalse(channel.writeInbound(frame("3333ff000002", PEER_MAC_HEX, p)));
        }
        assertTrue(written(channel).isEmpty(), "no answer to any");
        assertTrue(arp.neighbours().isEmpty(), "nothing learned: " + arp.neighbours());
        assertEquals(1, arp.dropCounters().get(DropReason.TRUNCATED));
        assertEquals(1, arp.dropCounters().get(DropReason.BAD_CHECKSUM));
        assertEquals(bad.size() - 2, arp.dropCounters().get(DropReason.BAD_NEIGHBOUR_DISCOVERY), arp.dropCounters().toString());
        assertNull(channel.readInbound(), "consumed");
        assertFalse(channel.finish());
    }

    @Test
    void strictModeThrowsAndReleases() throws Exception {
        ArpHandler arp = handler().setStrict(true);
        EmbeddedChannel channel = pipeline(arp);
        byte[] hopLimit = solicitation("2001:db8::1", "ff02::1:ff00:2", "2001:db8::2");
        hopLimit[7] = 1;
        ByteBuf frame = frame("3333ff000002", PEER_MAC_HEX, hopLimit);
        assertThrows(DecoderException.class, () -> channel.writeInbound(frame));
        assertEquals(0, frame.refCnt());
        assertFalse(channel.finish());
    }

    @Test
    void ordinaryIpv6TeachesNothingAndOtherIcmpv6PassesUp() throws Exception {
        ArpHandler arp = handler();
        EmbeddedChannel channel = new EmbeddedChannel(new EthernetCodec(), arp, new Ipv6Codec());
        byte[] echo = packet("2001:db8::1", "2001:db8::2", Icmpv6Types.ECHO_REQUEST, 0, "::", "");
        assertTrue(channel.writeInbound(frame(APP_MAC_HEX, PEER_MAC_HEX, echo)));
        Ipv6Packet in = channel.readInbound();
        assertEquals(Icmpv6Types.NEXT_HEADER, in.upperLayerProtocol());
        in.release();
        assertNull(arp.neighbour(v6("2001:db8::1")), "not from the source of an ordinary packet");
        // A router solicitation (133) is neighbour discovery too, but not ours to handle: up it goes.
        byte[] rs = packet("2001:db8::1", "ff02::2", 133, 0, "::", "");
        assertTrue(channel.writeInbound(frame("333300000002", PEER_MAC_HEX, rs)));
        ((Ipv6Packet) channel.readInbound()).release();
        assertEquals(0, arp.dropCounters().total());
        assertFalse(channel.finish());
    }

    @Test
    void unknownDestinationsAreSolicitedDroppedAndCountedThenResolved() throws Exception {
        ArpHandler arp = handler();
        EmbeddedChannel channel = pipeline(arp);
        InetSocketAddress peer = new InetSocketAddress("2001:db8::1", 9);
        ChannelFuture write = channel.writeOneOutbound(new DatagramPacket(TestPackets.ascii("x", StandardCharsets.US_ASCII), peer));
        channel.flushOutbound();
        assertInstanceOf(ArpHandler.UnresolvedNeighbourException.class, write.cause());
        assertEquals(1, arp.dropCounters().get(DropReason.UNRESOLVED));
        List<byte[]> out = written(channel);
        assertEquals(1, out.size());
        assertEquals("3333ff000001" + APP_MAC_HEX + "86dd", hex(out.get(0), 0, 14), "to the solicited-node group's MAC");
        assertEquals(NdpPackets.hex(packet("2001:db8::2", "ff02::1:ff00:1", NS, 0, "2001:db8::1", linkLayerOption(1, APP_MAC_HEX))),
                hex(out.get(0), 14, out.get(0).length));

        channel.writeOneOutbound(new DatagramPacket(TestPackets.ascii("y", StandardCharsets.US_ASCII), peer));
        channel.flushOutbound();
        assertTrue(written(channel).isEmpty(), "at most one solicitation a second");
        assertEquals(2, arp.dropCounters().get(DropReason.UNRESOLVED));

        // A UDP packet from the peer teaches nothing; its advertisement does.
        assertFalse(channel.writeInbound(frame(APP_MAC_HEX, PEER_MAC_HEX, packet("2001:db8::1", "2001:db8::2", NA,
                NdpMessage.FLAG_SOLICITED | NdpMessage.FLAG_OVERRIDE, "2001:db8::1", linkLayerOption(2, PEER_MAC_HEX)))));
        assertTrue(channel.writeOutbound(new DatagramPacket(TestPackets.ascii("z", StandardCharsets.US_ASCII), peer)));
        out = written(channel);
        assertEquals(1, out.size());
        assertEquals(PEER_MAC_HEX + APP_MAC_HEX + "86dd", hex(out.get(0), 0, 14));
        assertEquals("7a", hex(out.get(0), out.get(0).length - 1, out.get(0).length));
        assertEquals(2, arp.dropCounters().total());
        assertFalse(channel.finish());
    }

    @Test
    void multicastDestinationsMapTo3333AndTheLow32Bits() throws Exception {
        ArpHandler arp = handler();
        EmbeddedChannel channel = pipeline(arp);
        assertTrue(channel.writeOutbound(new DatagramPacket(TestPackets.ascii("all", StandardCharsets.US_ASCII),
                new InetSocketAddress("ff02::1:2:3", 9))));
        List<byte[]> out = written(channel);
        assertEquals("333300020003" + APP_MAC_HEX + "86dd", hex(out.get(0), 0, 14));
        assertEquals(0, arp.dropCounters().total());
        assertFalse(channel.finish());
    }

    @Test
    void aPingToUsIsAnsweredOnceTheKernelHasResolvedUs() throws Exception {
        ArpHandler arp = handler();
        EmbeddedChannel channel = pipeline(arp);
        channel.writeInbound(frame("3333ff000002", PEER_MAC_HEX, solicitation("2001:db8::1", "ff02::1:ff00:2", "2001:db8::2")));
        written(channel); // the advertisement
        byte[] echo = packet("2001:db8::1", "2001:db8::2", Icmpv6Types.ECHO_REQUEST, 0, "::", "");
        echo[7] = 64;
        channel.writeInbound(frame(APP_MAC_HEX, PEER_MAC_HEX, echo));
        List<byte[]> out = written(channel);
        assertEquals(1, out.size());
        assertEquals(PEER_MAC_HEX + APP_MAC_HEX + "86dd", hex(out.get(0), 0, 14));
        assertEquals(Icmpv6Types.ECHO_REPLY, out.get(0)[14 + 40] & 0xFF);
        assertFalse(channel.finish());
    }

    @Test
    void theIpv6TableIsBoundedAndAgesLikeTheIpv4One() throws Exception {
        ArpHandler arp = handler().setMaxNeighbours(2).setNeighbourSweepInterval(30, TimeUnit.SECONDS)
                .addNeighbour(v6("2001:db8::100"), MacAddress.parse("02:00:00:00:01:00"));
        EmbeddedChannel channel = pipeline(arp);
        for (int i = 1; i <= 5; i++) {
            channel.writeInbound(frame("3333ff000003", "00005e00530" + i, packet("2001:db8::1" + i, "ff02::1:ff00:3", NS, 0,
                    "2001:db8::3", linkLayerOption(1, "00005e00530" + i))));
        }
        assertEquals(3, arp.neighbours().size(), "two learned and the static one: " + arp.neighbours());
        assertEquals(3, arp.dropCounters().get(DropReason.NEIGHBOUR_TABLE_FULL));
        assertNull(arp.neighbour(v6("2001:db8::15")));

        InetSocketAddress peer = new InetSocketAddress("2001:db8::11", 9);
        channel.advanceTimeBy(30, TimeUnit.SECONDS); // confirmed before: still reachable
        channel.runScheduledPendingTasks();
        channel.advanceTimeBy(30, TimeUnit.SECONDS); // not confirmed since: stale
        channel.runScheduledPendingTasks();
        channel.writeAndFlush(new DatagramPacket(TestPackets.ascii("s", StandardCharsets.US_ASCII), peer));
        List<String> heads = new ArrayList<>();
        for (byte[] w : written(channel)) {
            heads.add(hex(w, 0, 14));
        }
        assertEquals(List.of("3333ff000011" + APP_MAC_HEX + "86dd", "00005e005301" + APP_MAC_HEX + "86dd"), heads,
                "stale: a solicitation to confirm it, and the datagram still sent");
        channel.advanceTimeBy(30, TimeUnit.SECONDS); // still unconfirmed: gone
        channel.runScheduledPendingTasks();
        assertNull(arp.neighbour(v6("2001:db8::11")));
        assertNotNull(arp.neighbour(v6("2001:db8::100")), "static entries never age");
        assertFalse(channel.finish());
    }

    @Test
    void rejectsMulticastOrUnspecifiedOwnAddresses() {
        assertThrows(IllegalArgumentException.class, () -> new ArpHandler(APP_MAC, List.of(v6("ff02::1"))));
        assertThrows(IllegalArgumentException.class, () -> new ArpHandler(APP_MAC, List.of(v6("::"))));
    }

}
