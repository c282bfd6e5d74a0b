package org.tuntap.codec.udp;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.DatagramPacket;
import io.netty.handler.codec.EncoderException;
import org.junit.jupiter.api.Test;
import org.tuntap.codec.DropReason;
import org.tuntap.codec.EtherType;
import org.tuntap.codec.TestPackets;
import org.tuntap.codec.checksum.InternetChecksum;
import org.tuntap.codec.ipv4.Ipv4Codec;
import org.tuntap.codec.ipv6.Ipv6Codec;
import org.tuntap.codec.ipv6.Ipv6Header;
import org.tuntap.codec.pi.PiCodec;
import org.tuntap.codec.pi.PiHeader;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** One pipeline, both families: the UDP layer speaks IPv6 as it speaks IPv4. */
class DualStackTest {

    /** Echoes every datagram to its sender, from the address it was sent to. */
    static final class Echo extends SimpleChannelInboundHandler<DatagramPacket> {
        final List<InetSocketAddress> senders = new ArrayList<>();
        final List<InetSocketAddress> recipients = new ArrayList<>();

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket packet) {
            senders.add(packet.sender());
            recipients.add(packet.recipient());
            ctx.writeAndFlush(new DatagramPacket(packet.content().retain(), packet.sender(), packet.recipient()));
        }
    }

    private static ByteBuf withPi(int proto, byte[] packet) {
        ByteBuf in = TestPackets.tracked(new byte[0]);
        PiHeader.write(in, 0, proto);
        return in.writeBytes(packet);
    }

    @Test
    void kernelsIpv6DatagramIsAnsweredOverIpv6AndIpv4StaysOnTheFusedPath() throws Exception {
        Echo echo = new Echo();
        UdpCodec udp = new UdpCodec();
        EmbeddedChannel channel = new EmbeddedChannel(PiCodec.forTun(), new Ipv6Codec(), new Ipv4Codec(), udp, echo);

        assertFalse(channel.writeInbound(withPi(EtherType.IPV6, TestPackets.fixture("tun6-udp.hex"))));
        assertEquals(new InetSocketAddress(InetAddress.getByName("2001:db8::1"), 40000), echo.senders.get(0));
        assertEquals(new InetSocketAddress(InetAddress.getByName("2001:db8::2"), 9999), echo.recipients.get(0));
        ByteBuf out = channel.readOutbound();
        assertEquals("000086dd", ByteBufUtil.hexDump(out, out.readerIndex(), 4), "PI: IPv6");
        int ip = out.readerIndex() + 4;
        assertEquals(6, Ipv6Header.version(out, ip));
        assertEquals(InetAddress.getByName("2001:db8::2"), org.tuntap.codec.ipv6.Ipv6Addresses.toInet(
                Ipv6Header.sourceHigh(out, ip), Ipv6Header.sourceLow(out, ip)));
        int udpAt = ip + Ipv6Header.LENGTH;
        assertEquals(9999, UdpHeader.sourcePort(out, udpAt));
        assertEquals(40000, UdpHeader.destinationPort(out, udpAt));
        assertEquals("hello over IPv6", out.toString(udpAt + 8, UdpHeader.length(out, udpAt) - 8, StandardCharsets.US_ASCII));
        assertEquals(null, UdpHeader.checkIpv6(out, udpAt, out.writerIndex() - udpAt, ip, true), "the reply's checksum verifies");
        out.release();

        // IPv4 in the same pipeline: still fused (the datagram is the buffer read, its echo built in it).
        byte[] v4 = TestPackets.fixture("tun-udp-small.hex");
        ByteBuf in = withPi(EtherType.IPV4, v4);
        channel.writeInbound(in);
        ByteBuf out4 = channel.readOutbound();
        assertSame(in, out4, "the IPv4 echo went through the fused path, in place");
        out4.release();
        assertEquals(0, udp.dropCounters().total());
        assertFalse(channel.finish());
    }

    @Test
    void aZeroChecksumOverIpv6IsDropped() throws Exception {
        UdpCodec udp = new UdpCodec();
        EmbeddedChannel channel = new EmbeddedChannel(new Ipv6Codec(), new Ipv4Codec(), udp);
        byte[] packet = TestPackets.fixture("tun6-udp.hex");
        packet[46] = 0;
        packet[47] = 0;
        assertFalse(channel.writeInbound(TestPackets.tracked(packet)));
        assertEquals(1, udp.dropCounters().get(DropReason.BAD_CHECKSUM));
        assertFalse(channel.finish());
    }

    @Test
    void defaultLocalAddressesPerFamilyAndNoCrossFamilySenders() throws Exception {
        UdpCodec udp = new UdpCodec(new InetSocketAddress("192.0.2.2", 7))
                .setDefaultLocalAddress(new InetSocketAddress("2001:db8::2", 7));
        EmbeddedChannel channel = new EmbeddedChannel(new Ipv6Codec(), new Ipv4Codec(), udp);
        assertEquals(new InetSocketAddress("192.0.2.2", 7), udp.defaultLocalAddress());
        assertEquals(new InetSocketAddress("2001:db8::2", 7), udp.defaultLocalAddress6());

        assertTrue(channel.writeOutbound(new DatagramPacket(TestPackets.tracked(new byte[] {1}),
                new InetSocketAddress("2001:db8::1", 5000))));
        ByteBuf v6 = channel.readOutbound();
        assertEquals(6, Ipv6Header.version(v6, v6.readerIndex()), "an IPv6 recipient gets an IPv6 packet from the IPv6 default");
        assertEquals(InetAddress.getByName("2001:db8::2"), org.tuntap.codec.ipv6.Ipv6Addresses.toInet(
                Ipv6Header.sourceHigh(v6, v6.readerIndex()), Ipv6Header.sourceLow(v6, v6.readerIndex())));
        v6.release();

        var failed = channel.writeOneOutbound(new DatagramPacket(TestPackets.tracked(new byte[] {1}),
                new InetSocketAddress("2001:db8::1", 5000), new InetSocketAddress("192.0.2.2", 7)));
        channel.flushOutbound();
        assertInstanceOf(EncoderException.class, failed.cause(), "an IPv4 sender cannot reach an IPv6 recipient");
        assertNull(channel.readOutbound());
        assertFalse(channel.finish());
    }

    @Test
    void theIpv6PseudoHeaderIsTheOneTheChecksumCovers() {
        // Sanity of the sum the test above relies on: the kernel's own datagram verifies.
        ByteBuf kernel = TestPackets.tracked(TestPackets.fixture("tun6-udp.hex"));
        long sum = InternetChecksum.pseudoHeaderSumIpv6(kernel, 0, 17, UdpHeader.length(kernel, 40));
        assertEquals(0, InternetChecksum.finish(InternetChecksum.add(sum, kernel, 40, UdpHeader.length(kernel, 40))));
        kernel.release();
    }
}
