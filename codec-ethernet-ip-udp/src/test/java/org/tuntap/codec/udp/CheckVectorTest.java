package org.tuntap.codec.udp;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.DatagramPacket;
import org.junit.jupiter.api.Test;
import org.tuntap.codec.ParseResult;
import org.tuntap.codec.TestPackets;
import org.tuntap.codec.checksum.ChecksumPolicy;
import org.tuntap.codec.ipv4.Ipv4Codec;
import org.tuntap.codec.ipv4.Ipv4Packet;
import org.tuntap.codec.ipv4.Ipv4Repr;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The reference check vector, byte for byte, through every way of building and parsing. */
class CheckVectorTest {

    private static final InetSocketAddress SOURCE = new InetSocketAddress(address("10.1.2.3"), 21345);
    private static final InetSocketAddress DESTINATION = new InetSocketAddress(address("172.16.2.2"), 12345);

    @Test
    void reprEmitsTheVector() {
        ByteBuf out = io.netty.buffer.PooledByteBufAllocator.DEFAULT.directBuffer();
        ByteBuf payload = TestPackets.ascii("hi", StandardCharsets.US_ASCII);
        try {
            Ipv4Repr ip = new Ipv4Repr().source(0x0a010203).destination(0xac100202).identification(1).ttl(64);
            UdpPackets.write(out, ip, 21345, 12345, payload, false);
            assertEquals(TestPackets.CHECK_VECTOR.replace(" ", ""), TestPackets.hex(out));
            assertEquals(0, payload.readerIndex(), "the payload is read, not consumed");
        } finally {
            out.release();
            payload.release();
        }
    }

    @Test
    void pipelineEncodesTheVector() {
        EmbeddedChannel channel = new EmbeddedChannel(
                new Ipv4Codec().setNextIdentification(1),
                new UdpCodec().setChecksumPolicy(ChecksumPolicy.VERIFY_ONLY));
        ByteBuf payload = TestPackets.ascii("hi", StandardCharsets.US_ASCII);
        assertTrue(channel.writeOutbound(new DatagramPacket(payload, DESTINATION, SOURCE)));
        ByteBuf out = channel.readOutbound();
        try {
            assertEquals(TestPackets.CHECK_VECTOR.replace(" ", ""), TestPackets.hex(out));
            assertEquals(0, payload.refCnt(), "a small payload is copied next to the headers, and released");
        } finally {
            out.release();
        }
        assertFalse(channel.finish());
    }

    @Test
    void pipelineDecodesTheVector() {
        UdpCodec udp = new UdpCodec();
        Ipv4Codec ip = new Ipv4Codec();
        EmbeddedChannel channel = new EmbeddedChannel(ip, udp);
        ByteBuf in = TestPackets.buf(TestPackets.CHECK_VECTOR);
        assertTrue(channel.writeInbound(in));
        DatagramPacket packet = channel.readInbound();
        try {
            assertEquals("hi", packet.content().toString(StandardCharsets.US_ASCII));
            assertEquals(SOURCE, packet.sender());
            assertEquals(DESTINATION, packet.recipient());
            assertTrue(packet.content().array() == in.array(), "the payload is a slice of the packet read");
        } finally {
            packet.release();
        }
        assertEquals(0, in.refCnt());
        assertEquals(0, ip.dropCounters().total() + udp.dropCounters().total());
        assertFalse(channel.finish());
    }

    @Test
    void viewsReadEveryField() {
        ByteBuf in = TestPackets.buf(TestPackets.CHECK_VECTOR);
        ParseResult<Ipv4Packet> result = Ipv4Packet.parse(in, true);
        in.release();
        Ipv4Packet p = result.value();
        try {
            assertEquals(4, p.version());
            assertEquals(20, p.headerLength());
            assertEquals(0, p.dscp());
            assertEquals(0, p.ecn());
            assertEquals(30, p.totalLength());
            assertEquals(1, p.identification());
            assertEquals(0, p.flags());
            assertFalse(p.isFragment());
            assertEquals(64, p.ttl());
            assertEquals(17, p.protocol());
            assertEquals(0xc0b8, p.headerChecksum());
            assertEquals(address("10.1.2.3"), p.source());
            assertEquals(address("172.16.2.2"), p.destination());
            assertEquals(0, p.options().readableBytes());
            ByteBuf udp = p.payload();
            assertEquals(21345, UdpHeader.sourcePort(udp, 0));
            assertEquals(12345, UdpHeader.destinationPort(udp, 0));
            assertEquals(10, UdpHeader.length(udp, 0));
            assertEquals(0, UdpHeader.checksumField(udp, 0));
            assertNull(UdpHeader.check(udp, 0, 10, p.sourceInt(), p.destinationInt(), true));
        } finally {
            p.release();
        }
    }

    @Test
    void buildComputesChecksumsThatParseVerifies() {
        ByteBuf payload = TestPackets.ascii("hi", StandardCharsets.US_ASCII);
        ByteBuf built = UdpPackets.build(ByteBufAllocator.DEFAULT, SOURCE, DESTINATION, payload);
        payload.release();
        try {
            // Same as the vector except id 0 (so header checksum c0b9) and a real UDP checksum.
            byte[] bytes = new byte[built.readableBytes()];
            built.getBytes(0, bytes);
            assertEquals("4500001e000000004011c0b90a010203ac10020253613039000a", TestPackets.hex(built.slice(0, 26)));
            byte[] pseudoAndUdp = TestPackets.bytes("0a010203ac1002020011000a" + TestPackets.hex(built.slice(20, 10)));
            assertEquals(0, TestPackets.naiveChecksum(pseudoAndUdp, 0, pseudoAndUdp.length), "UDP checksum verifies");
            ParseResult<DatagramPacket> parsed = UdpPackets.parse(built);
            DatagramPacket datagram = parsed.value();
            assertEquals("hi", datagram.content().toString(StandardCharsets.US_ASCII));
            assertEquals(SOURCE, datagram.sender());
            assertEquals(DESTINATION, datagram.recipient());
            datagram.release();
        } finally {
            built.release();
        }
    }

    static InetAddress address(String dotted) {
        try {
            return InetAddress.getByName(dotted);
        } catch (java.net.UnknownHostException e) {
            throw new AssertionError(e);
        }
    }
}
