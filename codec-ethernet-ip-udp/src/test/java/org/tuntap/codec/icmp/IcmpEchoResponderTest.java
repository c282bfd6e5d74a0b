package org.tuntap.codec.icmp;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import org.junit.jupiter.api.Test;
import org.tuntap.codec.DropReason;
import org.tuntap.codec.TestPackets;
import org.tuntap.codec.checksum.ChecksumPolicy;
import org.tuntap.codec.checksum.InternetChecksum;
import org.tuntap.codec.ipv4.Ipv4Codec;
import org.tuntap.codec.ipv4.Ipv4Packet;
import org.tuntap.codec.ipv4.Ipv4Repr;
import org.tuntap.codec.ipv6.Ipv6Codec;
import org.tuntap.codec.ipv6.Ipv6ExtensionHeader;
import org.tuntap.codec.ipv6.Ipv6Header;
import org.tuntap.codec.ipv6.Ipv6Packet;
import org.tuntap.codec.ipv6.Ipv6Repr;

import java.net.InetAddress;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Pings answered in both families, other ICMP passed up typed, bad ICMP dropped; the codecs on either side are real. */
class IcmpEchoResponderTest {

    static final int PEER4 = 0xc0000201;      // 192.0.2.1
    static final int OURS4 = 0xc6336402;      // 198.51.100.2
    static final long PREFIX6 = 0x20010db8_00000000L;
    static final long PEER6 = 1;              // 2001:db8::1
    static final long OURS6 = 2;              // 2001:db8::2
    static final byte[] DATA = "abcdefghijklmnopqrstuvwabcdefghi".getBytes(); // what Windows' ping sends

    private final IcmpEchoResponder responder;
    private final EmbeddedChannel channel;

    IcmpEchoResponderTest() throws Exception {
        responder = new IcmpEchoResponder(List.of(InetAddress.getByName("198.51.100.2"), InetAddress.getByName("2001:db8::2")));
        channel = new EmbeddedChannel(new Ipv4Codec(), new Ipv6Codec(), responder);
    }

    /** An ICMPv4 message in an IPv4 packet: type, code, the 4 rest-of-header bytes, body; checksums computed. */
    static ByteBuf icmp4(int source, int destination, int type, int code, int rest, byte[] body) {
        int length = IcmpHeader.LENGTH + body.length;
        ByteBuf b = PooledByteBufAllocator.DEFAULT.heapBuffer(20 + length);
        new Ipv4Repr().source(source).destination(destination).protocol(Icmpv4Types.PROTOCOL).emit(b, 0, length, true);
        b.writerIndex(20).writeByte(type).writeByte(code).writeShort(0).writeInt(rest).writeBytes(body);
        IcmpHeader.setChecksum(b, 20, length, 0);
        return b;
    }

    static ByteBuf icmp6(long destinationLow, int type, int code, int rest, byte[] body) {
        int length = IcmpHeader.LENGTH + body.length;
        ByteBuf b = PooledByteBufAllocator.DEFAULT.directBuffer(40 + length);
        new Ipv6Repr().source(PREFIX6, PEER6).destination(destinationLow == -1 ? 0xff020000_00000000L : PREFIX6,
                destinationLow == -1 ? 1 : destinationLow).nextHeader(Icmpv6Types.NEXT_HEADER).emit(b, 0, length);
        b.writerIndex(40).writeByte(type).writeByte(code).writeShort(0).writeInt(rest).writeBytes(body);
        IcmpHeader.setChecksum(b, 40, length, InternetChecksum.pseudoHeaderSumIpv6(b, 0, Icmpv6Types.NEXT_HEADER, length));
        return b;
    }

    private IcmpMessage passedUp(ByteBuf in) {
        assertTrue(channel.writeInbound(in));
        assertNull(channel.readOutbound(), "not answered");
        return assertInstanceOf(IcmpMessage.class, channel.readInbound());
    }

    @Test
    void pingIsAnsweredOverIpv4() {
        assertFalse(channel.writeInbound(icmp4(PEER4, OURS4, Icmpv4Types.ECHO_REQUEST, 0, 0x1234_0007, DATA)));
        ByteBuf wire = channel.readOutbound();
        Ipv4Packet reply = Ipv4Packet.parse(wire, true).value(); // header checksum verified too
        wire.release();
        assertEquals(OURS4, reply.sourceInt());
        assertEquals(PEER4, reply.destinationInt());
        assertEquals(Icmpv4Types.PROTOCOL, reply.protocol());
        ByteBuf message = reply.payload();
        assertEquals(Icmpv4Types.ECHO_REPLY, IcmpHeader.type(message, 0));
        assertEquals(0, IcmpHeader.code(message, 0));
        assertEquals(0x1234, IcmpHeader.identifier(message, 0));
        assertEquals(7, IcmpHeader.sequence(message, 0));
        assertArrayEquals(DATA, ByteBufUtil.getBytes(message, 8, DATA.length));
        byte[] bytes = ByteBufUtil.getBytes(message);
        assertEquals(0, TestPackets.naiveChecksum(bytes, 0, bytes.length), "the incrementally updated checksum verifies");
        reply.release();
        assertNull(channel.readInbound());
        assertEquals(0, responder.dropCounters().total());
        assertFalse(channel.finish());
    }

    @Test
    void kernelsPing6IsAnswered() {
        // What Linux sent (tun6-echo-request.hex): 2001:db8::1 -> 2001:db8::2, id 0x1234, seq 1, 24 bytes of 0xa5.
        assertFalse(channel.writeInbound(TestPackets.tracked(TestPackets.fixture("tun6-echo-request.hex"))));
        ByteBuf wire = channel.readOutbound();
        byte[] bytes = ByteBufUtil.getBytes(wire);
        wire.release();
        assertEquals("20010db8000000000000000000000002" + "20010db8000000000000000000000001",
                ByteBufUtil.hexDump(bytes, 8, 32), "from the address pinged, to the pinger");
        assertEquals(Icmpv6Types.NEXT_HEADER, bytes[6]);
        assertEquals(32, bytes[5]);
        assertEquals("81" + "00", ByteBufUtil.hexDump(bytes, 40, 2), "echo reply, code 0");
        assertEquals("12340001" + "a5".repeat(24), ByteBufUtil.hexDump(bytes, 44, 28));
        // Independent check over the RFC 8200 pseudo-header: addresses, 32-bit length, next header 58.
        byte[] pseudo = new byte[40 + 32];
        System.arraycopy(bytes, 8, pseudo, 0, 32);
        pseudo[35] = 32;
        pseudo[39] = 58;
        System.arraycopy(bytes, 40, pseudo, 40, 32);
        assertEquals(0, TestPackets.naiveChecksum(pseudo, 0, pseudo.length));
        assertFalse(channel.finish());
    }

    @Test
    void otherDestinationsAndMulticastArePassedUpNotAnswered() throws Exception {
        IcmpMessage elsewhere = passedUp(icmp4(PEER4, OURS4 + 1, Icmpv4Types.ECHO_REQUEST, 0, 0x00010001, DATA));
        assertEquals(IcmpMessage.Kind.ECHO_REQUEST, elsewhere.kind());
        assertEquals(InetAddress.getByName("198.51.100.3"), elsewhere.destination());
        assertEquals(1, elsewhere.identifier());
        elsewhere.release();

        EmbeddedChannel any = new EmbeddedChannel(new Ipv4Codec(), new Ipv6Codec(), IcmpEchoResponder.forAnyAddress());
        assertFalse(any.writeInbound(icmp4(PEER4, OURS4 + 1, Icmpv4Types.ECHO_REQUEST, 0, 0, DATA)));
        assertFalse(any.writeInbound(icmp6(77, Icmpv6Types.ECHO_REQUEST, 0, 0, DATA)));
        ((ByteBuf) any.readOutbound()).release();
        ((ByteBuf) any.readOutbound()).release();
        for (ByteBuf group : new ByteBuf[] {icmp4(PEER4, 0xe0000001, Icmpv4Types.ECHO_REQUEST, 0, 0, DATA),
                icmp4(PEER4, 0xffffffff, Icmpv4Types.ECHO_REQUEST, 0, 0, DATA), icmp6(-1, Icmpv6Types.ECHO_REQUEST, 0, 0, DATA)}) {
            assertTrue(any.writeInbound(group));
            assertNull(any.readOutbound(), "no reply to a group address");
            IcmpMessage message = any.readInbound();
            assertEquals(IcmpMessage.Kind.ECHO_REQUEST, message.kind());
            message.release();
        }
        assertFalse(any.finish());
        assertFalse(channel.finish());
    }

    @Test
    void errorsArePassedUpTyped() throws Exception {
        byte[] invoking = TestPackets.bytes(TestPackets.CHECK_VECTOR);
        IcmpMessage fragNeeded = passedUp(icmp4(PEER4, OURS4, Icmpv4Types.DESTINATION_UNREACHABLE,
                Icmpv4Types.CODE_FRAGMENTATION_NEEDED, 1400, invoking));
        assertFalse(fragNeeded.isIpv6());
        assertEquals(IcmpMessage.Kind.PACKET_TOO_BIG, fragNeeded.kind());
        assertEquals(1400, fragNeeded.mtu());
        assertEquals(InetAddress.getByName("192.0.2.1"), fragNeeded.source());
        assertArrayEquals(invoking, ByteBufUtil.getBytes(fragNeeded.body()), "the start of the packet that was too big");
        fragNeeded.release();

        IcmpMessage portUnreachable = passedUp(icmp4(PEER4, OURS4, Icmpv4Types.DESTINATION_UNREACHABLE, 3, 0, invoking));
        assertEquals(IcmpMessage.Kind.DESTINATION_UNREACHABLE, portUnreachable.kind());
        assertEquals(3, portUnreachable.code());
        assertEquals(-1, portUnreachable.mtu());
        portUnreachable.release();

        IcmpMessage ttl = passedUp(icmp4(PEER4, OURS4, Icmpv4Types.TIME_EXCEEDED, 0, 0, invoking));
        assertEquals(IcmpMessage.Kind.TIME_EXCEEDED, ttl.kind());
        ttl.release();

        IcmpMessage tooBig = passedUp(icmp6(OURS6, Icmpv6Types.PACKET_TOO_BIG, 0, 1280, new byte[48]));
        assertTrue(tooBig.isIpv6());
        assertEquals(IcmpMessage.Kind.PACKET_TOO_BIG, tooBig.kind());
        assertEquals(1280, tooBig.mtu());
        assertEquals(InetAddress.getByName("2001:db8::1"), tooBig.source());
        assertEquals(48, tooBig.body().readableBytes());
        tooBig.release();

        IcmpMessage unreachable6 = passedUp(icmp6(OURS6, Icmpv6Types.DESTINATION_UNREACHABLE, 4, 0, new byte[8]));
        assertEquals(IcmpMessage.Kind.DESTINATION_UNREACHABLE, unreachable6.kind());
        unreachable6.release();
        IcmpMessage hopLimit = passedUp(icmp6(OURS6, Icmpv6Types.TIME_EXCEEDED, 0, 0, new byte[8]));
        assertEquals(IcmpMessage.Kind.TIME_EXCEEDED, hopLimit.kind());
        hopLimit.release();
        IcmpMessage reply = passedUp(icmp6(OURS6, Icmpv6Types.ECHO_REPLY, 0, 0x00050006, DATA));
        assertEquals(IcmpMessage.Kind.ECHO_REPLY, reply.kind());
        assertEquals(6, reply.sequence());
        reply.release();
        IcmpMessage solicitation = passedUp(icmp6(OURS6, 135, 0, 0, new byte[16]));
        assertEquals(IcmpMessage.Kind.OTHER, solicitation.kind());
        assertEquals(-1, solicitation.mtu());
        solicitation.release();
        assertEquals(0, responder.dropCounters().total());
        assertFalse(channel.finish());
    }

    @Test
    void badIcmpIsDroppedAndCounted() {
        ByteBuf corrupt4 = icmp4(PEER4, OURS4, Icmpv4Types.ECHO_REQUEST, 0, 0, DATA);
        corrupt4.setByte(corrupt4.writerIndex() - 1, 'X');
        ByteBuf corrupt6 = icmp6(OURS6, Icmpv6Types.ECHO_REQUEST, 0, 0, DATA);
        corrupt6.setLong(8, 0x20010db8_00000001L); // another source: the pseudo-header no longer matches
        ByteBuf short4 = icmp4(PEER4, OURS4, Icmpv4Types.ECHO_REQUEST, 0, 0, new byte[0]);
        short4.writerIndex(27).setShort(2, 27).setShort(10, 0).setShort(10, InternetChecksum.checksum(short4, 0, 20));
        ByteBuf short6 = icmp6(OURS6, Icmpv6Types.ECHO_REQUEST, 0, 0, new byte[0]);
        short6.setShort(4, 7);
        for (ByteBuf bad : new ByteBuf[] {corrupt4, corrupt6, short4, short6}) {
            assertFalse(channel.writeInbound(bad));
            assertEquals(0, bad.refCnt());
        }
        assertNull(channel.readOutbound());
        assertEquals(2, responder.dropCounters().get(DropReason.BAD_CHECKSUM));
        assertEquals(2, responder.dropCounters().get(DropReason.TRUNCATED));

        EmbeddedChannel trusting = new EmbeddedChannel(new Ipv4Codec(),
                new IcmpEchoResponder(List.of()).setChecksumPolicy(ChecksumPolicy.NONE));
        ByteBuf corrupt = icmp4(PEER4, OURS4, Icmpv4Types.ECHO_REPLY, 0, 0, DATA);
        corrupt.setByte(corrupt.writerIndex() - 1, 'X');
        assertTrue(trusting.writeInbound(corrupt));
        ((IcmpMessage) trusting.readInbound()).release();
        assertFalse(trusting.finish());

        EmbeddedChannel strict = new EmbeddedChannel(new Ipv4Codec(), new IcmpEchoResponder(List.of()).setStrict(true));
        ByteBuf again = icmp4(PEER4, OURS4, Icmpv4Types.ECHO_REQUEST, 0, 0, DATA);
        again.setByte(again.writerIndex() - 1, 'X');
        assertThrows(DecoderException.class, () -> strict.writeInbound(again));
        assertEquals(0, again.refCnt());
        assertFalse(strict.finish());
        assertFalse(channel.finish());
    }

    @Test
    void answersAboveTheFusedIpv4UdpLayers() throws Exception {
        EmbeddedChannel full = new EmbeddedChannel(new Ipv4Codec(), new org.tuntap.codec.udp.UdpCodec(), new Ipv6Codec(),
                new IcmpEchoResponder(List.of(InetAddress.getByName("198.51.100.2"), InetAddress.getByName("2001:db8::2"))));
        assertFalse(full.writeInbound(icmp4(PEER4, OURS4, Icmpv4Types.ECHO_REQUEST, 0, 0x00010001, DATA)));
        assertFalse(full.writeInbound(icmp6(OURS6, Icmpv6Types.ECHO_REQUEST, 0, 0x00010001, DATA)));
        ByteBuf reply4 = full.readOutbound();
        ByteBuf reply6 = full.readOutbound();
        assertEquals(Icmpv4Types.ECHO_REPLY, IcmpHeader.type(reply4, reply4.readerIndex() + 20));
        assertEquals(Icmpv6Types.ECHO_REPLY, IcmpHeader.type(reply6, reply6.readerIndex() + 40));
        reply4.release();
        reply6.release();
        assertTrue(full.writeInbound(TestPackets.buf(TestPackets.CHECK_VECTOR)));
        io.netty.channel.socket.DatagramPacket udp = full.readInbound();
        udp.release();
        assertFalse(full.finish());
        assertFalse(channel.finish());
    }

    @Test
    void everythingElsePassesUntouched() {
        ByteBuf udp4 = TestPackets.buf(TestPackets.CHECK_VECTOR);
        assertTrue(channel.writeInbound(udp4));
        Ipv4Packet four = assertInstanceOf(Ipv4Packet.class, channel.readInbound());
        four.release();

        // An ICMPv6 fragment (passed by the IPv6 codec on request): not whole, so not ICMP to answer.
        EmbeddedChannel fragments = new EmbeddedChannel(new Ipv6Codec().setPassFragments(true), IcmpEchoResponder.forAnyAddress());
        ByteBuf fragment = PooledByteBufAllocator.DEFAULT.heapBuffer(64);
        new Ipv6Repr().source(PREFIX6, PEER6).destination(PREFIX6, OURS6).nextHeader(Ipv6Header.FRAGMENT).emit(fragment, 0, 24);
        fragment.writerIndex(40).writeZero(24);
        Ipv6ExtensionHeader.setFragment(fragment, 40, Icmpv6Types.NEXT_HEADER, 0, true, 1);
        fragment.setByte(48, Icmpv6Types.ECHO_REQUEST);
        assertTrue(fragments.writeInbound(fragment));
        Ipv6Packet passed = fragments.readInbound();
        assertSame(fragment, passed.content());
        passed.release();
        assertNull(fragments.readOutbound());
        assertFalse(fragments.finish());

        Object notAPacket = "hello";
        assertTrue(channel.writeInbound(notAPacket));
        assertSame(notAPacket, channel.readInbound());
        assertFalse(channel.finish());
    }
}
