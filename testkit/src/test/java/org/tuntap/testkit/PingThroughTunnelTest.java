package org.tuntap.testkit;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.tuntap.codec.checksum.InternetChecksum;
import org.tuntap.codec.icmp.IcmpEchoResponder;
import org.tuntap.codec.icmp.IcmpHeader;
import org.tuntap.codec.icmp.IcmpMessage;
import org.tuntap.codec.icmp.Icmpv4Types;
import org.tuntap.codec.icmp.Icmpv6Types;
import org.tuntap.codec.ipv4.Ipv4Codec;
import org.tuntap.codec.ipv4.Ipv4Header;
import org.tuntap.codec.ipv4.Ipv4Repr;
import org.tuntap.codec.ipv6.Ipv6Codec;
import org.tuntap.codec.ipv6.Ipv6Header;
import org.tuntap.codec.ipv6.Ipv6Repr;
import org.tuntap.codec.pi.PiCodec;
import org.tuntap.transport.TunMode;

import java.net.InetAddress;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code ping} and {@code ping -6} through an in-memory TUN device: requests built with the
 * codec's views and representations, answered by {@link IcmpEchoResponder} behind the IP codecs
 * on a real {@code TunChannel}, replies checked as the kernel would get them.
 */
class PingThroughTunnelTest {
    private static final int HOST4 = 0xc0000201;   // 192.0.2.1, the pinging host
    private static final int APP4 = 0xc6336402;    // 198.51.100.2, the application
    private static final long PREFIX6 = 0x20010db8_00000000L;
    private static final byte[] DATA = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN".getBytes(); // 50 bytes: odd words too

    private static TunnelHarness harness(boolean packetInfo) throws Exception {
        IcmpEchoResponder responder = new IcmpEchoResponder(
                List.of(InetAddress.getByName("198.51.100.2"), InetAddress.getByName("2001:db8::2")));
        return TunnelHarness.builder().mode(TunMode.TUN).packetInfo(packetInfo)
                .handlers(packetInfo ? new io.netty.channel.ChannelHandler[] {PiCodec.forTun(), new Ipv4Codec(), new Ipv6Codec(), responder}
                        : new io.netty.channel.ChannelHandler[] {new Ipv4Codec(), new Ipv6Codec(), responder})
                .build();
    }

    static byte[] echoRequest4(int destination, int identifier, int sequence) {
        int length = IcmpHeader.LENGTH + DATA.length;
        ByteBuf b = Unpooled.buffer(20 + length);
        new Ipv4Repr().source(HOST4).destination(destination).protocol(Icmpv4Types.PROTOCOL).dontFragment(true)
                .emit(b, 0, length, true);
        IcmpHeader.setEcho(b, 20, Icmpv4Types.ECHO_REQUEST, identifier, sequence);
        b.writerIndex(28).writeBytes(DATA);
        IcmpHeader.setChecksum(b, 20, length, 0);
        return ByteBufUtil.getBytes(b);
    }

    static byte[] echoRequest6(long destinationLow, int identifier, int sequence) {
        int length = IcmpHeader.LENGTH + DATA.length;
        ByteBuf b = Unpooled.buffer(40 + length);
        new Ipv6Repr().source(PREFIX6, 1).destination(PREFIX6, destinationLow).nextHeader(Icmpv6Types.NEXT_HEADER)
                .emit(b, 0, length);
        IcmpHeader.setEcho(b, 40, Icmpv6Types.ECHO_REQUEST, identifier, sequence);
        b.writerIndex(48).writeBytes(DATA);
        IcmpHeader.setChecksum(b, 40, length, InternetChecksum.pseudoHeaderSumIpv6(b, 0, Icmpv6Types.NEXT_HEADER, length));
        return ByteBufUtil.getBytes(b);
    }

    private static ByteBuf withoutPi(byte[] written, boolean packetInfo, int expectedProto) {
        ByteBuf b = Unpooled.wrappedBuffer(written);
        if (packetInfo) {
            assertEquals(expectedProto, b.getUnsignedShort(2), "the PI header's proto");
            b.skipBytes(4);
        }
        return b.slice();
    }

    @ParameterizedTest(name = "packet information: {0}")
    @ValueSource(booleans = {false, true})
    void pingIsAnswered(boolean packetInfo) throws Exception {
        TunnelHarness harness = harness(packetInfo);
        for (int sequence = 1; sequence <= 3; sequence++) {
            harness.writeToTunnel(echoRequest4(APP4, 0x4242, sequence));
            ByteBuf reply = withoutPi(harness.readFromTunnel(), packetInfo, 0x0800);
            assertEquals(null, Ipv4Header.check(reply, 0, reply.readableBytes(), true));
            assertEquals(APP4, Ipv4Header.source(reply, 0));
            assertEquals(HOST4, Ipv4Header.destination(reply, 0));
            assertEquals(Icmpv4Types.PROTOCOL, Ipv4Header.protocol(reply, 0));
            assertEquals(null, IcmpHeader.checkIpv4(reply, 20, reply.readableBytes() - 20, true));
            assertEquals(Icmpv4Types.ECHO_REPLY, IcmpHeader.type(reply, 20));
            assertEquals(0x4242, IcmpHeader.identifier(reply, 20));
            assertEquals(sequence, IcmpHeader.sequence(reply, 20));
            assertArrayEquals(DATA, ByteBufUtil.getBytes(reply, 28, reply.readableBytes() - 28));
        }
        assertNull(harness.readFromTunnel(), "one reply per request");
        assertFalse(harness.finish());
    }

    @ParameterizedTest(name = "packet information: {0}")
    @ValueSource(booleans = {false, true})
    void ping6IsAnswered(boolean packetInfo) throws Exception {
        TunnelHarness harness = harness(packetInfo);
        harness.writeToTunnel(echoRequest6(2, 0x0606, 9));
        ByteBuf reply = withoutPi(harness.readFromTunnel(), packetInfo, 0x86DD);
        assertEquals(null, Ipv6Header.check(reply, 0, reply.readableBytes()));
        assertEquals(PREFIX6, Ipv6Header.sourceHigh(reply, 0));
        assertEquals(2, Ipv6Header.sourceLow(reply, 0));
        assertEquals(1, Ipv6Header.destinationLow(reply, 0));
        assertEquals(Icmpv6Types.NEXT_HEADER, Ipv6Header.nextHeader(reply, 0));
        assertEquals(64, Ipv6Header.hopLimit(reply, 0));
        int length = Ipv6Header.payloadLength(reply, 0);
        assertEquals(IcmpHeader.LENGTH + DATA.length, length);
        assertEquals(null, IcmpHeader.checkIpv6(reply, 40, length,
                InternetChecksum.pseudoHeaderSumIpv6(reply, 0, Icmpv6Types.NEXT_HEADER, length), true));
        assertEquals(Icmpv6Types.ECHO_REPLY, IcmpHeader.type(reply, 40));
        assertEquals(0x0606, IcmpHeader.identifier(reply, 40));
        assertEquals(9, IcmpHeader.sequence(reply, 40));
        assertArrayEquals(DATA, ByteBufUtil.getBytes(reply, 48, DATA.length));
        assertNull(harness.readFromTunnel());
        assertFalse(harness.finish());
    }

    @ParameterizedTest(name = "packet information: {0}")
    @ValueSource(booleans = {false, true})
    void pingsToOtherAddressesReachTheApplication(boolean packetInfo) throws Exception {
        TunnelHarness harness = harness(packetInfo);
        harness.writeToTunnel(echoRequest4(APP4 + 1, 1, 1));
        harness.writeToTunnel(echoRequest6(3, 1, 1));
        assertNull(harness.readFromTunnel(), "not ours to answer");
        IcmpMessage four = harness.readInbound();
        IcmpMessage six = harness.readInbound();
        assertEquals(IcmpMessage.Kind.ECHO_REQUEST, four.kind());
        assertFalse(four.isIpv6());
        assertEquals(InetAddress.getByName("198.51.100.3"), four.destination());
        assertTrue(six.isIpv6());
        assertEquals(InetAddress.getByName("2001:db8::3"), six.destination());
        four.release();
        six.release();
        assertFalse(harness.finish());
    }
}
