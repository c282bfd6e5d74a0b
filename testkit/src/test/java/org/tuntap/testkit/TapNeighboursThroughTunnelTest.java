package org.tuntap.testkit;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.DatagramPacket;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.tuntap.codec.DropReason;
import org.tuntap.codec.arp.ArpHandler;
import org.tuntap.codec.ethernet.EthernetCodec;
import org.tuntap.codec.ethernet.MacAddress;
import org.tuntap.codec.ipv4.Ipv4Codec;
import org.tuntap.codec.ipv6.Ipv6Addresses;
import org.tuntap.codec.ipv6.Ipv6Codec;
import org.tuntap.codec.ipv6.Ipv6Repr;
import org.tuntap.codec.pi.PiCodec;
import org.tuntap.codec.udp.UdpCodec;
import org.tuntap.codec.udp.UdpHeader;
import org.tuntap.codec.udp.UdpPackets;
import org.tuntap.transport.TunMode;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * A TAP pipeline that learns neighbours only from ARP and neighbour discovery, on the in-memory
 * tunnel whose network side resolves the program first, as the kernel does: UDP of both
 * families reaches the echo and its reply goes back to the network's MAC, with no static entry
 * on either side; the program's own requests are answered by the network.
 */
class TapNeighboursThroughTunnelTest {

    private static final MacAddress APP_MAC = MacAddress.parse("02:00:00:00:00:02");
    private static final String APP_MAC_HEX = "020000000002";
    private static final String NETWORK_MAC_HEX = "00005e005301";

    /** Echoes every datagram to its sender. */
    static final class Echo extends SimpleChannelInboundHandler<DatagramPacket> {
        final List<String> seen = new ArrayList<>();

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket datagram) {
            seen.add(datagram.sender() + " " + datagram.content().toString(StandardCharsets.US_ASCII));
            ctx.writeAndFlush(new DatagramPacket(datagram.content().retain(), datagram.sender(), datagram.recipient()));
        }
    }

    private static ArpHandler arp() throws Exception {
        return new ArpHandler(APP_MAC, List.of(InetAddress.getByName("192.0.2.2"), InetAddress.getByName("2001:db8::2")));
    }

    private static TunnelHarness harness(boolean packetInfo, ArpHandler arp, Echo echo) {
        List<io.netty.channel.ChannelHandler> handlers = new ArrayList<>();
        if (packetInfo) {
            handlers.add(PiCodec.forTap());
        }
        handlers.add(new EthernetCodec());
        handlers.add(arp);
        handlers.add(new Ipv6Codec());
        handlers.add(new Ipv4Codec());
        handlers.add(new UdpCodec(new InetSocketAddress("192.0.2.2", 7)));
        handlers.add(echo);
        return TunnelHarness.builder().mode(TunMode.TAP).packetInfo(packetInfo)
                .handlers(handlers.toArray(new io.netty.channel.ChannelHandler[0])).build();
    }

    private static byte[] udp4(String text) {
        ByteBuf payload = Unpooled.copiedBuffer(text, StandardCharsets.US_ASCII);
        ByteBuf packet = UdpPackets.build(io.netty.buffer.UnpooledByteBufAllocator.DEFAULT,
                new InetSocketAddress("192.0.2.1", 4000), new InetSocketAddress("192.0.2.2", 7), payload);
        try {
            return ByteBufUtil.getBytes(packet);
        } finally {
            payload.release();
            packet.release();
        }
    }

    private static byte[] udp6(String text) throws Exception {
        Inet6Address from = (Inet6Address) InetAddress.getByName("2001:db8::1");
        Inet6Address to = (Inet6Address) InetAddress.getByName("2001:db8::2");
        byte[] data = text.getBytes(StandardCharsets.US_ASCII);
        ByteBuf b = Unpooled.buffer(48 + data.length);
        b.writerIndex(48).writeBytes(data);
        UdpHeader.setIpv6(b, 40, Ipv6Addresses.high(from), Ipv6Addresses.low(from), Ipv6Addresses.high(to),
                Ipv6Addresses.low(to), 4000, 7, b, 48, data.length, true);
        new Ipv6Repr().source(from).destination(to).nextHeader(17).emit(b, 0, 8 + data.length);
        return ByteBufUtil.getBytes(b);
    }

    /** The Ethernet frame of a packet the pipeline wrote (PI header cut). */
    private static String head(byte[] written, boolean packetInfo) {
        return ByteBufUtil.hexDump(written, packetInfo ? 4 : 0, 14);
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void bothFamiliesAreResolvedByArpAndNeighbourDiscoveryAndEchoed(boolean packetInfo) throws Exception {
        ArpHandler arp = arp();
        Echo echo = new Echo();
        TunnelHarness harness = harness(packetInfo, arp, echo);

        harness.writeToTunnel(udp4("four"));
        // The pipeline answered the network's ARP request, then echoed the datagram to the MAC it taught.
        assertEquals(APP_MAC, harness.tunnel().programNeighbour(InetAddress.getByName("192.0.2.2")));
        assertEquals(NETWORK_MAC_HEX + APP_MAC_HEX + "0806", head(harness.readFromTunnel(), packetInfo), "the ARP reply");
        assertEquals(NETWORK_MAC_HEX + APP_MAC_HEX + "0800", head(harness.readFromTunnel(), packetInfo), "the echo");

        harness.writeToTunnel(udp6("six"));
        assertEquals(APP_MAC, harness.tunnel().programNeighbour(InetAddress.getByName("2001:db8::2")));
        byte[] advertisement = harness.readFromTunnel();
        assertEquals(NETWORK_MAC_HEX + APP_MAC_HEX + "86dd", head(advertisement, packetInfo));
        assertEquals(136, advertisement[(packetInfo ? 4 : 0) + 14 + 40] & 0xFF, "a neighbour advertisement");
        byte[] echo6 = harness.readFromTunnel();
        assertEquals(NETWORK_MAC_HEX + APP_MAC_HEX + "86dd", head(echo6, packetInfo), "the IPv6 echo, to the network's MAC");
        assertEquals("six", new String(echo6, echo6.length - 3, 3, StandardCharsets.US_ASCII));

        assertEquals(List.of("/192.0.2.1:4000 four", "/[2001:db8:0:0:0:0:0:1]:4000 six"), echo.seen);
        assertEquals(MacAddress.parse("00:00:5e:00:53:01"), arp.neighbour(InetAddress.getByName("192.0.2.1")));
        assertEquals(MacAddress.parse("00:00:5e:00:53:01"), arp.neighbour(InetAddress.getByName("2001:db8::1")));
        assertEquals(0, arp.dropCounters().total(), arp.dropCounters().toString());
        assertNull(harness.readFromTunnel());
        assertFalse(harness.finish());
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void theProgramsOwnRequestsAreAnsweredByTheNetwork(boolean packetInfo) throws Exception {
        ArpHandler arp = arp();
        TunnelHarness harness = harness(packetInfo, arp, new Echo());
        for (String peer : new String[] {"198.51.100.9", "2001:db8::9"}) {
            harness.writeOutbound(new DatagramPacket(Unpooled.copiedBuffer("x", StandardCharsets.US_ASCII),
                    new InetSocketAddress(peer, 9), new InetSocketAddress(peer.contains(":") ? "2001:db8::2" : "192.0.2.2", 7)));
            assertEquals(1, harness.readFromTunnel() != null ? 1 : 0, "the request");
            assertEquals(MacAddress.parse("00:00:5e:00:53:01"), arp.neighbour(InetAddress.getByName(peer)),
                    "the network's answer taught " + peer);
            assertNull(harness.readFromTunnel(), "the first datagram was dropped, as the kernel drops it too");
        }
        harness.writeOutbound(new DatagramPacket(Unpooled.copiedBuffer("y", StandardCharsets.US_ASCII),
                new InetSocketAddress("2001:db8::9", 9), new InetSocketAddress("2001:db8::2", 7)));
        assertEquals(NETWORK_MAC_HEX + APP_MAC_HEX + "86dd", head(harness.readFromTunnel(), packetInfo), "resolved now");
        assertEquals(2, arp.dropCounters().get(DropReason.UNRESOLVED));
        harness.checkException();
        assertFalse(harness.finish());
    }
}
