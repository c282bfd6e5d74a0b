package org.tuntap.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.DatagramPacket;
import org.junit.jupiter.api.Test;
import org.tuntap.codec.arp.ArpHandler;
import org.tuntap.codec.ethernet.EthernetCodec;
import org.tuntap.codec.ethernet.MacAddress;
import org.tuntap.codec.ipv4.Ipv4Codec;
import org.tuntap.codec.pi.PiCodec;
import org.tuntap.codec.udp.UdpCodec;
import org.tuntap.codec.udp.UdpPackets;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Whole TUN and TAP pipelines on EmbeddedChannel with an ordinary Netty UDP echo handler on top. */
class PipelineTest {

    private static final MacAddress APP_MAC = MacAddress.parse("02:00:00:00:00:02");
    private static final String KERNEL_MAC = "a6a4a7197c17"; // from the capture

    /** Plain Netty UDP code: echoes every datagram to its sender. */
    static final class Echo extends SimpleChannelInboundHandler<DatagramPacket> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket packet) {
            ctx.writeAndFlush(new DatagramPacket(packet.content().retain(), packet.sender(), packet.recipient()));
        }
    }

    @Test
    void tunWithPiEchoesTheKernelsDatagram() {
        EmbeddedChannel channel = new EmbeddedChannel(PiCodec.forTun(), new Ipv4Codec(), new UdpCodec(), new Echo());
        assertFalse(channel.writeInbound(TestPackets.tracked(TestPackets.fixture("tun-pi-udp.hex"))));
        ByteBuf out = channel.readOutbound();
        assertEquals("00000800", TestPackets.hex(out.slice(out.readerIndex(), 4)), "PI header: flags 0, IPv4");
        byte[] ip = ByteBufUtil.getBytes(out, out.readerIndex() + 4, out.readableBytes() - 4);
        assertEquals(0, TestPackets.naiveChecksum(ip, 0, 20), "IPv4 header checksum verifies");
        DatagramPacket reply = UdpPackets.parse(Unpooled.wrappedBuffer(ip)) /* only read here */.value();
        assertEquals("hello from the kernel", reply.content().toString(StandardCharsets.US_ASCII));
        assertEquals(new InetSocketAddress("192.0.2.2", 9999), reply.sender());
        assertEquals(new InetSocketAddress("192.0.2.1", 40000), reply.recipient());
        reply.release();
        out.release();
        assertNull(channel.readOutbound());
        assertFalse(channel.finish());
    }

    @Test
    void outboundLargePayloadIsNotCopied() {
        EmbeddedChannel channel = new EmbeddedChannel(PiCodec.forTun(), new Ipv4Codec(),
                new UdpCodec(new InetSocketAddress("192.0.2.2", 5000)));
        int size = FusedStack.COPY_THRESHOLD + 1;
        ByteBuf payload = PooledByteBufAllocator.DEFAULT.directBuffer(size).writeBytes(new byte[size]);
        assertTrue(channel.writeOutbound(new DatagramPacket(payload, new InetSocketAddress("192.0.2.1", 6000))));
        ByteBuf out = channel.readOutbound();
        assertEquals(4 + 20 + 8 + size, out.readableBytes());
        payload.setByte(0, 0x7f); // the wire buffer sees the application's buffer itself
        assertEquals(0x7f, out.getUnsignedByte(out.readerIndex() + 32));
        assertEquals(1, payload.refCnt(), "held once, by the wire buffer");
        out.release();
        assertEquals(0, payload.refCnt());
        assertFalse(channel.finish());
    }

    @Test
    void outboundSmallPayloadIsCopiedIntoOneBuffer() {
        EmbeddedChannel channel = new EmbeddedChannel(PiCodec.forTun(), new Ipv4Codec(),
                new UdpCodec(new InetSocketAddress("192.0.2.2", 5000)));
        int size = FusedStack.COPY_THRESHOLD;
        ByteBuf payload = PooledByteBufAllocator.DEFAULT.directBuffer(size).writeBytes(new byte[size]).setByte(0, 0x7f);
        assertTrue(channel.writeOutbound(new DatagramPacket(payload, new InetSocketAddress("192.0.2.1", 6000))));
        ByteBuf out = channel.readOutbound();
        assertEquals(4 + 20 + 8 + size, out.readableBytes());
        assertFalse(out instanceof CompositeByteBuf, "headers and payload in one buffer: one write, no iovec");
        assertEquals(0, payload.refCnt(), "the application's buffer is released once copied");
        assertEquals(0x7f, out.getUnsignedByte(out.readerIndex() + 32));
        out.release();
        assertFalse(channel.finish());
    }

    @Test
    void tapAnswersArpAndEchoesToTheLearnedMac() throws Exception {
        ArpHandler arp = new ArpHandler(APP_MAC, List.of((Inet4Address) InetAddress.getByName("192.0.2.2")));
        EmbeddedChannel channel = new EmbeddedChannel(new EthernetCodec(), arp, new Ipv4Codec(), new UdpCodec(), new Echo());

        // The kernel asks who has 192.0.2.2; we answer with our MAC, to its MAC.
        assertFalse(channel.writeInbound(TestPackets.tracked(TestPackets.fixture("tap-arp-request.hex"))));
        ByteBuf arpReply = channel.readOutbound();
        assertEquals(KERNEL_MAC + "020000000002" + "0806" + "0001080006040002" + "020000000002" + "c0000202"
                + KERNEL_MAC + "c0000201", TestPackets.hex(arpReply));
        arpReply.release();
        assertEquals(MacAddress.parse("a6:a4:a7:19:7c:17"), arp.neighbour((Inet4Address) InetAddress.getByName("192.0.2.1")));

        // The kernel's datagram to us comes back to the kernel's MAC.
        assertFalse(channel.writeInbound(TestPackets.tracked(TestPackets.fixture("tap-udp.hex"))));
        ByteBuf frame = channel.readOutbound();
        assertEquals(KERNEL_MAC + "020000000002" + "0800", TestPackets.hex(frame.slice(frame.readerIndex(), 14)));
        DatagramPacket reply = UdpPackets.parse(frame.slice(frame.readerIndex() + 14, frame.readableBytes() - 14)).value();
        assertEquals("frame me", reply.content().toString(StandardCharsets.US_ASCII));
        assertEquals(new InetSocketAddress("192.0.2.1", 40002), reply.recipient());
        reply.release();
        frame.release();
        assertEquals(0, arp.dropCounters().total());
        assertFalse(channel.finish());
    }

    @Test
    void tapAsksForUnknownDestinationsAndLearnsOnlyFromArp() throws Exception {
        ArpHandler arp = new ArpHandler(APP_MAC, List.of((Inet4Address) InetAddress.getByName("192.0.2.2")));
        UdpCodec udp = new UdpCodec(new InetSocketAddress("192.0.2.2", 7));
        EmbeddedChannel channel = new EmbeddedChannel(new EthernetCodec(), arp, new Ipv4Codec(), udp);

        // Unknown destination: an ARP request goes out, the datagram is dropped and counted, the write fails.
        ChannelFuture write = channel.writeOneOutbound(new DatagramPacket(
                TestPackets.ascii("x", StandardCharsets.US_ASCII), new InetSocketAddress("192.0.2.9", 9)));
        channel.flushOutbound();
        assertInstanceOf(ArpHandler.UnresolvedNeighbourException.class, write.cause());
        assertEquals(1, arp.dropCounters().get(DropReason.UNRESOLVED));
        ByteBuf request = channel.readOutbound();
        assertEquals("ffffffffffff" + "020000000002" + "0806" + "0001080006040001" + "020000000002" + "c0000202"
                + "000000000000" + "c0000209", TestPackets.hex(request));
        request.release();
        assertNull(channel.readOutbound());

        // A second try within a second does not send a second request.
        channel.writeOneOutbound(new DatagramPacket(TestPackets.ascii("y", StandardCharsets.US_ASCII),
                new InetSocketAddress("192.0.2.9", 9)));
        channel.flushOutbound();
        assertNull(channel.readOutbound());
        assertEquals(2, arp.dropCounters().get(DropReason.UNRESOLVED));

        // An IPv4 frame from 192.0.2.9 teaches nothing (Linux learns only from ARP): still unresolved.
        ByteBuf payload = TestPackets.ascii("hey", StandardCharsets.US_ASCII);
        ByteBuf ip = UdpPackets.build(PooledByteBufAllocator.DEFAULT, new InetSocketAddress("192.0.2.9", 9),
                new InetSocketAddress("192.0.2.2", 7), payload);
        payload.release();
        ByteBuf frame = PooledByteBufAllocator.DEFAULT.heapBuffer().writeBytes(TestPackets.bytes("020000000002 02000000aaaa 0800")).writeBytes(ip);
        ip.release();
        assertTrue(channel.writeInbound(frame));
        DatagramPacket in = channel.readInbound();
        in.release();
        assertNull(arp.neighbour(InetAddress.getByName("192.0.2.9")));
        ChannelFuture third = channel.writeOneOutbound(new DatagramPacket(TestPackets.ascii("w", StandardCharsets.US_ASCII),
                new InetSocketAddress("192.0.2.9", 9)));
        channel.flushOutbound();
        assertInstanceOf(ArpHandler.UnresolvedNeighbourException.class, third.cause());
        assertEquals(3, arp.dropCounters().get(DropReason.UNRESOLVED));
        assertNull(channel.readOutbound(), "no second request within the second");

        // Its ARP reply teaches it; then the write goes through.
        assertFalse(channel.writeInbound(TestPackets.tracked(TestPackets.bytes("020000000002 02000000aaaa 0806"
                + "0001080006040002 02000000aaaa c0000209 020000000002 c0000202"))));
        assertTrue(channel.writeOutbound(new DatagramPacket(TestPackets.ascii("z", StandardCharsets.US_ASCII),
                new InetSocketAddress("192.0.2.9", 9))));
        ByteBuf out = channel.readOutbound();
        assertEquals("02000000aaaa" + "020000000002" + "0800", TestPackets.hex(out.slice(out.readerIndex(), 14)));
        out.release();
        assertFalse(channel.finish());
    }

    @Test
    void tapWithPiAndBroadcast() throws Exception {
        ArpHandler arp = new ArpHandler(APP_MAC, List.of((Inet4Address) InetAddress.getByName("192.0.2.2")));
        EmbeddedChannel channel = new EmbeddedChannel(PiCodec.forTap(), new EthernetCodec(), arp, new Ipv4Codec(),
                new UdpCodec(new InetSocketAddress("192.0.2.2", 7)));
        assertTrue(channel.writeOutbound(new DatagramPacket(TestPackets.ascii("all", StandardCharsets.US_ASCII),
                new InetSocketAddress("255.255.255.255", 9))));
        ByteBuf out = channel.readOutbound();
        assertEquals("00000800" + "ffffffffffff" + "020000000002" + "0800", TestPackets.hex(out.slice(out.readerIndex(), 18)));
        out.release();
        assertFalse(channel.finish());
    }
}
