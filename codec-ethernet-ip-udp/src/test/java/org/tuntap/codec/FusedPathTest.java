package org.tuntap.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufHolder;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.DatagramPacket;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;
import org.tuntap.codec.arp.ArpHandler;
import org.tuntap.codec.checksum.ChecksumPolicy;
import org.tuntap.codec.ethernet.EthernetCodec;
import org.tuntap.codec.ethernet.EthernetHeader;
import org.tuntap.codec.ethernet.MacAddress;
import org.tuntap.codec.fragment.Ipv4ReassemblyHandler;
import org.tuntap.codec.fragment.Ipv6ReassemblyHandler;
import org.tuntap.codec.ipv4.Ipv4Codec;
import org.tuntap.codec.ipv4.Ipv4Packet;
import org.tuntap.codec.ipv4.Ipv4Repr;
import org.tuntap.codec.ipv6.Ipv6Addresses;
import org.tuntap.codec.ipv6.Ipv6Codec;
import org.tuntap.codec.ipv6.Ipv6Repr;
import org.tuntap.codec.ndp.NdpPackets;
import org.tuntap.codec.udp.UdpHeader;
import org.tuntap.codec.pi.PiCodec;
import org.tuntap.codec.pi.PiHeader;
import org.tuntap.codec.udp.UdpCodec;
import org.tuntap.codec.udp.UdpPackets;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The fused path does what the layers do one by one: every input, valid or not, goes through a
 * pipeline whose layers sit next to each other (fused) and through the same layers kept apart
 * by a pass-through handler (layered); the datagrams and messages coming out of the top, the
 * bytes written to the device and every layer's drop counters must be the same.
 */
class FusedPathTest {

    private static final MacAddress APP_MAC = MacAddress.parse("02:00:00:00:00:02");
    private static final MacAddress PEER_MAC = MacAddress.parse("02:00:00:00:00:01");
    private static final InetSocketAddress PEER = new InetSocketAddress("192.0.2.1", 40000);
    private static final InetSocketAddress APP = new InetSocketAddress("192.0.2.2", 7);
    private static final java.net.Inet6Address APP6 = NdpPackets.v6("2001:db8::2");

    enum Link { TUN, TUN_PI, TAP, TAP_PI }

    /** Keeps two layers apart, so the pipeline takes the layered path. */
    static final class Apart extends ChannelDuplexHandler {
    }

    /** The application: records what reaches it and echoes datagrams to their sender. */
    static final class Recorder extends ChannelInboundHandlerAdapter {
        final List<String> seen = new ArrayList<>();
        final List<ByteBuf> contents = new ArrayList<>();
        boolean echo = true;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof DatagramPacket datagram) {
                seen.add("datagram " + datagram.sender() + " -> " + datagram.recipient() + " "
                        + ByteBufUtil.hexDump(datagram.content()));
                contents.add(datagram.content());
                if (echo) {
                    ctx.write(new DatagramPacket(datagram.content().retain(), datagram.sender(), datagram.recipient()));
                }
                datagram.release();
            } else {
                seen.add(msg.getClass().getSimpleName() + " "
                        + (msg instanceof ByteBufHolder h ? ByteBufUtil.hexDump(h.content())
                        : msg instanceof ByteBuf b ? ByteBufUtil.hexDump(b) : msg));
                ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }
    }

    /** One pipeline's layers and what came out of it. */
    static final class Side {
        final EmbeddedChannel channel;
        final List<LayerHandler> layers;
        final Recorder app = new Recorder();

        Side(Link link, boolean fused, ChecksumPolicy checksums) throws Exception {
            this(link, fused, checksums, 0);
        }

        Side(Link link, boolean fused, ChecksumPolicy checksums, int mtu) throws Exception {
            this(link, fused, checksums, mtu, false);
        }

        /** With {@code reassembly}, the example's IP layers: IPv6 and IPv4 passing fragments, each followed by its reassembly handler. */
        Side(Link link, boolean fused, ChecksumPolicy checksums, int mtu, boolean reassembly) throws Exception {
            layers = new ArrayList<>();
            if (link == Link.TUN_PI) {
                layers.add(PiCodec.forTun());
            }
            if (link == Link.TAP_PI) {
                layers.add(PiCodec.forTap());
            }
            if (link == Link.TAP || link == Link.TAP_PI) {
                layers.add(new EthernetCodec());
                layers.add(new ArpHandler(APP_MAC, List.of(APP.getAddress(), APP6)));
                if (!reassembly) {
                    layers.add(new Ipv6Codec()); // as in the example: neighbour discovery and IPv6 take the layered path
                }
            }
            if (reassembly) {
                layers.add(new Ipv6Codec().setPassFragments(true));
                layers.add(new Ipv6ReassemblyHandler());
            }
            layers.add(new Ipv4Codec().setChecksumPolicy(checksums).setNextIdentification(4242).setMtu(mtu)
                    .setPassFragments(reassembly));
            if (reassembly) {
                layers.add(new Ipv4ReassemblyHandler());
            }
            layers.add(new UdpCodec(APP).setChecksumPolicy(checksums));
            List<ChannelHandler> handlers = new ArrayList<>();
            for (LayerHandler layer : layers) {
                if (!fused && !handlers.isEmpty()) {
                    handlers.add(new Apart());
                }
                handlers.add(layer);
            }
            handlers.add(app);
            channel = new EmbeddedChannel(handlers.toArray(new ChannelHandler[0]));
        }

        /** The ARP layer (TAP sides only). */
        ArpHandler arp() {
            return (ArpHandler) layers.stream().filter(l -> l instanceof ArpHandler).findFirst().orElseThrow();
        }

        /** Feeds one packet (a batch of one) and returns what came out, in order. */
        List<String> feed(byte[] packet) {
            app.seen.clear();
            channel.writeInbound(TestPackets.tracked(packet));
            List<String> out = new ArrayList<>(app.seen);
            for (ByteBuf written; (written = channel.readOutbound()) != null; ) {
                out.add("wrote " + ByteBufUtil.hexDump(written));
                written.release();
            }
            for (LayerHandler layer : layers) {
                out.add(layer.getClass().getSimpleName() + " drops " + drops(layer));
            }
            return out;
        }

        List<String> send(DatagramPacket datagram) {
            List<String> out = new ArrayList<>();
            channel.writeAndFlush(datagram).addListener(f -> {
                if (!f.isSuccess()) {
                    out.add("failed " + f.cause());
                }
            });
            for (ByteBuf written; (written = channel.readOutbound()) != null; ) {
                out.add("wrote " + ByteBufUtil.hexDump(written));
                written.release();
            }
            return out;
        }
    }

    private static Object drops(LayerHandler layer) {
        if (layer instanceof PiCodec pi) {
            return pi.dropCounters().snapshot();
        }
        if (layer instanceof EthernetCodec ethernet) {
            return ethernet.dropCounters().snapshot();
        }
        if (layer instanceof ArpHandler arp) {
            return arp.dropCounters().snapshot() + " " + arp.neighbours();
        }
        if (layer instanceof Ipv4Codec ip) {
            return ip.dropCounters().snapshot();
        }
        if (layer instanceof Ipv6Codec ip) {
            return ip.dropCounters().snapshot();
        }
        return ((UdpCodec) layer).dropCounters().snapshot();
    }

    /** Valid and invalid IPv4 packets, as the device would carry them on a TUN without PI. */
    private static List<byte[]> ipPackets() {
        List<byte[]> packets = new ArrayList<>();
        Random random = new Random(8);
        for (int size : new int[] {0, 1, 64, 1400, 2000}) {
            packets.add(udp(new Ipv4Repr(), size, true, random));
        }
        packets.add(udp(new Ipv4Repr().options(new byte[] {7, 7, 4, 0, 0, 0, 0, 0}), 64, true, random));
        packets.add(udp(new Ipv4Repr(), 64, false, random)); // UDP checksum 0: none
        byte[] padded = udp(new Ipv4Repr(), 20, true, random);
        packets.add(java.util.Arrays.copyOf(padded, padded.length + 6)); // link-layer padding
        byte[] badIpChecksum = udp(new Ipv4Repr(), 64, true, random);
        badIpChecksum[10] ^= 1;
        packets.add(badIpChecksum);
        byte[] badUdpChecksum = udp(new Ipv4Repr(), 64, true, random);
        badUdpChecksum[40] ^= 1;
        packets.add(badUdpChecksum);
        byte[] longUdpLength = udp(new Ipv4Repr(), 64, false, random);
        longUdpLength[25] = (byte) 200;
        packets.add(longUdpLength);
        byte[] valid = udp(new Ipv4Repr(), 64, true, random);
        packets.add(java.util.Arrays.copyOf(valid, 30)); // truncated: total length beyond the data
        packets.add(java.util.Arrays.copyOf(valid, 10)); // shorter than a header
        byte[] fragment = udp(new Ipv4Repr(), 64, true, random);
        fragment[6] = 0x20; // more fragments
        fix(fragment);
        packets.add(fragment);
        byte[] tcp = udp(new Ipv4Repr(), 64, true, random);
        tcp[9] = 6;
        fix(tcp);
        packets.add(tcp);
        byte[] ipv6 = new byte[48];
        ipv6[0] = 0x60;
        ipv6[5] = 8;
        ipv6[6] = 17;
        packets.add(ipv6);
        byte[] version5 = udp(new Ipv4Repr(), 8, true, random);
        version5[0] = 0x55;
        packets.add(version5);
        for (String[] martian : new String[][] {{"224.0.0.1", "192.0.2.2"}, {"255.255.255.255", "192.0.2.2"},
                {"0.0.0.0", "192.0.2.2"}, {"127.0.0.1", "192.0.2.2"}, {"0.0.0.0", "255.255.255.255"}}) {
            packets.add(udp(new Ipv4Repr().source(address(martian[0])).destination(address(martian[1])), 8, true, random));
        }
        return packets;
    }

    /** A UDP datagram from the peer's IPv6 address to ours. */
    private static byte[] udp6() {
        ByteBuf out = PooledByteBufAllocator.DEFAULT.heapBuffer();
        try {
            out.writeBytes(new byte[40]);
            out.writeBytes(new byte[] {0, 9, 0, 7, 0, 10, 0, 0, 'h', 'i'});
            UdpHeader.setIpv6(out, 40, Ipv6Addresses.high(NdpPackets.v6("2001:db8::1")), Ipv6Addresses.low(NdpPackets.v6("2001:db8::1")),
                    Ipv6Addresses.high(APP6), Ipv6Addresses.low(APP6), 9, 7, out, 48, 2, true);
            new Ipv6Repr().source(NdpPackets.v6("2001:db8::1")).destination(APP6).nextHeader(17).emit(out, 0, 10);
            return ByteBufUtil.getBytes(out);
        } finally {
            out.release();
        }
    }

    private static byte[] udp(Ipv4Repr ip, int size, boolean udpChecksum, Random random) {
        byte[] payload = new byte[size];
        random.nextBytes(payload);
        ByteBuf out = PooledByteBufAllocator.DEFAULT.heapBuffer();
        ByteBuf data = TestPackets.tracked(payload);
        try {
            if (ip.source() == 0 && ip.destination() == 0) {
                ip.source((Inet4Address) PEER.getAddress()).destination((Inet4Address) APP.getAddress());
            }
            ip.identification(99);
            UdpPackets.write(out, ip, PEER.getPort(), APP.getPort(), data, udpChecksum);
            return ByteBufUtil.getBytes(out);
        } finally {
            out.release();
            data.release();
        }
    }

    private static Inet4Address address(String literal) {
        try {
            return (Inet4Address) InetAddress.getByName(literal);
        } catch (java.net.UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    /** Recomputes the IPv4 header checksum after a field was changed. */
    private static void fix(byte[] packet) {
        packet[10] = 0;
        packet[11] = 0;
        int sum = TestPackets.naiveChecksum(packet, 0, (packet[0] & 0x0F) * 4);
        packet[10] = (byte) (sum >> 8);
        packet[11] = (byte) sum;
    }

    /** The packet as the device carries it on this link. */
    private static byte[] onLink(Link link, byte[] ip, int etherType, int piFlags) {
        ByteBuf out = PooledByteBufAllocator.DEFAULT.heapBuffer();
        try {
            if (link == Link.TUN_PI || link == Link.TAP_PI) {
                PiHeader.write(out, piFlags, link == Link.TUN_PI ? (ip.length > 0 && ip[0] >> 4 == 6 ? EtherType.IPV6 : EtherType.IPV4)
                        : etherType == EtherType.VLAN ? EtherType.VLAN : etherType);
            }
            if (link == Link.TAP || link == Link.TAP_PI) {
                if (etherType == EtherType.VLAN) {
                    out.writeBytes(TestPackets.bytes("020000000002" + "020000000001" + "8100" + "0005" + "0800"));
                } else {
                    EthernetHeader.write(out, APP_MAC, PEER_MAC, etherType);
                }
            }
            out.writeBytes(ip);
            return ByteBufUtil.getBytes(out);
        } finally {
            out.release();
        }
    }

    private static List<byte[]> inputs(Link link) {
        List<byte[]> inputs = new ArrayList<>();
        boolean tap = link == Link.TAP || link == Link.TAP_PI;
        if (tap) { // the peer's ARP request first, as the kernel sends it
            inputs.add(onLink(link, TestPackets.bytes("0001080006040001" + "020000000001" + "c0000201" + "000000000000" + "c0000202"),
                    EtherType.ARP, 0));
        }
        for (byte[] ip : ipPackets()) {
            inputs.add(onLink(link, ip, ip.length > 0 && (ip[0] & 0xFF) >> 4 == 6 ? EtherType.IPV6 : EtherType.IPV4, 0));
        }
        byte[] valid = ipPackets().get(2);
        if (link == Link.TUN_PI || link == Link.TAP_PI) {
            inputs.add(onLink(link, valid, EtherType.IPV4, PiHeader.TUN_PKT_STRIP));
            inputs.add(new byte[] {0, 0});
        }
        byte[] ipv6Labelled = onLink(link, valid, tap ? EtherType.IPV6 : EtherType.IPV4, 0);
        if (link == Link.TUN_PI) {
            ipv6Labelled[3] = (byte) 0xDD; // PI protocol 0x86DD in front of an IPv4 packet
            ipv6Labelled[2] = (byte) 0x86;
        }
        inputs.add(ipv6Labelled);
        if (tap) {
            inputs.add(onLink(link, valid, EtherType.VLAN, 0));
            inputs.add(new byte[] {2, 0, 0, 0, 0, 2, 2});
            // Neighbour discovery: a solicitation for us (answered), one for another address, an
            // advertisement, malformed ones; then IPv6 UDP to us, echoed to the learned MAC.
            String sll = NdpPackets.linkLayerOption(1, "020000000001");
            inputs.add(onLink(link, NdpPackets.packet("2001:db8::1", "ff02::1:ff00:2", 135, 0, "2001:db8::2", sll), EtherType.IPV6, 0));
            inputs.add(onLink(link, NdpPackets.packet("2001:db8::1", "ff02::1:ff00:3", 135, 0, "2001:db8::3", sll), EtherType.IPV6, 0));
            inputs.add(onLink(link, NdpPackets.packet("2001:db8::5", "2001:db8::2", 136, 0x60, "2001:db8::5",
                    NdpPackets.linkLayerOption(2, "020000000005")), EtherType.IPV6, 0));
            byte[] routed = NdpPackets.packet("2001:db8::1", "ff02::1:ff00:2", 135, 0, "2001:db8::2", sll);
            routed[7] = 64;
            inputs.add(onLink(link, routed, EtherType.IPV6, 0));
            inputs.add(onLink(link, NdpPackets.packet("2001:db8::1", "ff02::1:ff00:2", 135, 0, "2001:db8::2", "0100000000000000"),
                    EtherType.IPV6, 0));
            inputs.add(onLink(link, java.util.Arrays.copyOf(routed, 50), EtherType.IPV6, 0));
            inputs.add(onLink(link, udp6(), EtherType.IPV6, 0));
        }
        return inputs;
    }

    @ParameterizedTest
    @EnumSource(Link.class)
    void everyInputComesOutOfTheFusedPathAsOutOfTheLayers(Link link) throws Exception {
        for (ChecksumPolicy checksums : new ChecksumPolicy[] {ChecksumPolicy.BOTH, ChecksumPolicy.NONE}) {
            Side fused = new Side(link, true, checksums);
            Side layered = new Side(link, false, checksums);
            List<byte[]> inputs = inputs(link);
            List<String> last = null;
            for (int i = 0; i < inputs.size(); i++) {
                last = fused.feed(inputs.get(i));
                assertEquals(layered.feed(inputs.get(i)), last,
                        link + " " + checksums + ", input " + i + ": " + ByteBufUtil.hexDump(inputs.get(i)));
            }
            if (link == Link.TAP || link == Link.TAP_PI) { // the IPv6 datagram, echoed to the MAC its solicitation taught
                assertTrue(last.stream().anyMatch(line -> line.contains("wrote " + (link == Link.TAP_PI ? "000086dd" : "")
                        + "020000000001" + "020000000002" + "86dd")), last.toString());
            }
            assertFalse(fused.channel.finish());
            assertFalse(layered.channel.finish());
        }
    }

    @ParameterizedTest
    @EnumSource(Link.class)
    void datagramsWrittenFromOutsideAReadAreEncodedAlike(Link link) throws Exception {
        Side fused = new Side(link, true, ChecksumPolicy.BOTH);
        Side layered = new Side(link, false, ChecksumPolicy.BOTH);
        if (link == Link.TAP || link == Link.TAP_PI) {
            for (Side side : List.of(fused, layered)) {
                side.arp().addNeighbour((Inet4Address) PEER.getAddress(), PEER_MAC);
            }
        }
        for (int size : new int[] {0, 5, 1024, 1025, 3000}) {
            byte[] payload = new byte[size];
            new Random(size).nextBytes(payload);
            assertEquals(layered.send(new DatagramPacket(TestPackets.tracked(payload), PEER)),
                    fused.send(new DatagramPacket(TestPackets.tracked(payload), PEER)), link + ", " + size + " bytes");
        }
        // Mistakes of the application fail the write the same way.
        assertEquals(layered.send(new DatagramPacket(TestPackets.tracked(new byte[1]), new InetSocketAddress("2001:db8::1", 9))),
                fused.send(new DatagramPacket(TestPackets.tracked(new byte[1]), new InetSocketAddress("2001:db8::1", 9))));
        assertFalse(fused.channel.finish());
        assertFalse(layered.channel.finish());
    }

    @ParameterizedTest
    @EnumSource(Link.class)
    void withAnMtuDatagramsOverItAreFragmentedAlikeAndThoseWithinItStayFused(Link link) throws Exception {
        Side fused = new Side(link, true, ChecksumPolicy.BOTH, 1500);
        Side layered = new Side(link, false, ChecksumPolicy.BOTH, 1500);
        if (link == Link.TAP || link == Link.TAP_PI) {
            for (Side side : List.of(fused, layered)) {
                side.arp().addNeighbour((Inet4Address) PEER.getAddress(), PEER_MAC);
            }
        }
        for (int size : new int[] {0, 1472, 1473, 3000, 65507}) {
            byte[] payload = new byte[size];
            new Random(size).nextBytes(payload);
            List<String> out = fused.send(new DatagramPacket(TestPackets.tracked(payload), PEER));
            assertEquals(layered.send(new DatagramPacket(TestPackets.tracked(payload), PEER)), out, link + ", " + size + " bytes");
            assertEquals(size <= 1472 ? 1 : (size + 8 + 1479) / 1480, out.size(), link + ", " + size + " bytes: " + out.size());
        }
        // Within the MTU, an echo is still built in place in the buffer read: the fused path.
        byte[] packet = onLink(link, ipPackets().get(3), EtherType.IPV4, 0); // 1400 bytes of payload
        ByteBuf read = TestPackets.tracked(packet);
        fused.channel.writeInbound(read);
        ByteBuf written = fused.channel.readOutbound();
        assertSame(read, written, link + ": the echo of a datagram within the MTU is the buffer read");
        written.release();
        assertFalse(fused.channel.finish());
        assertFalse(layered.channel.finish());
    }

    @Test
    void unresolvedNeighbourTakesTheLayeredPathAndIsCountedOnce() throws Exception {
        Side fused = new Side(Link.TAP, true, ChecksumPolicy.BOTH);
        List<String> out = fused.send(new DatagramPacket(TestPackets.tracked(new byte[4]), PEER));
        assertEquals(2, out.size(), "the failed write and an ARP request: " + out);
        assertTrue(out.get(0).contains("UnresolvedNeighbourException"), out.get(0));
        assertTrue(out.get(1).startsWith("wrote ffffffffffff" + "020000000002" + "0806"), out.get(1));
        assertEquals(1, ((ArpHandler) fused.layers.get(1)).dropCounters().get(DropReason.UNRESOLVED));
        assertFalse(fused.channel.finish());
    }

    /** The example's pipeline: the reassembly handlers between the IP layers must not break the fused path. */
    @ParameterizedTest
    @EnumSource(Link.class)
    void withReassemblyHandlersBetweenTheLayersTheEchoIsStillBuiltInPlace(Link link) throws Exception {
        Side side = new Side(link, true, ChecksumPolicy.BOTH, 0, true);
        if (link == Link.TAP || link == Link.TAP_PI) {
            side.arp().addNeighbour((Inet4Address) PEER.getAddress(), PEER_MAC);
        }
        byte[] packet = onLink(link, ipPackets().get(2), EtherType.IPV4, 0);
        ByteBuf read = TestPackets.tracked(packet);
        side.channel.writeInbound(read);
        ByteBuf written = side.channel.readOutbound();
        assertSame(read, written, link + ": the echo is the buffer read, so the whole run of layers fused");
        written.release();
        assertFalse(side.channel.finish());
    }

    @Test
    void fusedDatagramIsTheBufferReadAndItsEchoIsBuiltInPlace() throws Exception {
        Side side = new Side(Link.TUN_PI, true, ChecksumPolicy.BOTH);
        byte[] packet = onLink(Link.TUN_PI, ipPackets().get(2), EtherType.IPV4, 0);
        ByteBuf read = TestPackets.tracked(packet);
        side.channel.writeInbound(read);
        ByteBuf content = side.app.contents.get(0);
        assertSame(read, content, "the datagram's content is the buffer the channel read, narrowed");
        ByteBuf written = side.channel.readOutbound();
        assertSame(read, written, "the echo is the same buffer, the new headers in front of the payload");
        assertEquals(packet.length, written.readableBytes());
        written.release();
        assertFalse(side.channel.finish());
    }

    @Test
    void aLayerReplacedUnderItsOwnNameTakesOverFromTheNextBatch() throws Exception {
        // The old UDP layer checks no checksums, the new one does: a stale stack would let a
        // corrupted datagram through the old layer's fused decode.
        Side side = new Side(Link.TUN, true, ChecksumPolicy.NONE);
        side.app.echo = false;
        byte[] packet = ipPackets().get(2); // 64 bytes of UDP payload, checksummed
        side.feed(packet);
        assertEquals(1, side.app.seen.size(), "delivered before the replace");
        UdpCodec old = (UdpCodec) side.layers.get(side.layers.size() - 1);
        String name = side.channel.pipeline().context(old).name();
        UdpCodec replacement = new UdpCodec(APP).setChecksumPolicy(ChecksumPolicy.BOTH);
        side.channel.pipeline().replace(name, name, replacement); // same names, same order
        byte[] badChecksum = packet.clone();
        badChecksum[40] ^= 1;
        side.feed(badChecksum);
        assertEquals(List.of(), side.app.seen, "the corrupted datagram reached the application");
        assertEquals(1, replacement.dropCounters().total(), "the new UDP layer checked the datagram");
        assertFalse(side.channel.finish());
    }

    @Test
    void aHandlerAddedBetweenLayersSeesPacketsFromTheNextBatchOn() throws Exception {
        Side side = new Side(Link.TUN, true, ChecksumPolicy.BOTH);
        side.app.echo = false;
        byte[] packet = ipPackets().get(2);
        side.feed(packet);
        List<Object> between = new ArrayList<>();
        side.channel.pipeline().addBefore(side.channel.pipeline().context(side.layers.get(1)).name(), "between",
                new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        between.add(msg.getClass());
                        ctx.fireChannelRead(msg);
                    }
                });
        side.feed(packet);
        assertEquals(List.of(Ipv4Packet.class), between);
        side.channel.pipeline().remove("between");
        side.feed(packet);
        assertEquals(1, between.size(), "fused again once it is gone");
        assertNull(side.channel.readOutbound());
        assertFalse(side.channel.finish());
    }
}
