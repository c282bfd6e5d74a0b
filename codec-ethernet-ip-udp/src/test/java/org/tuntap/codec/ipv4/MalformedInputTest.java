package org.tuntap.codec.ipv4;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.DatagramPacket;
import io.netty.handler.codec.DecoderException;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.Test;
import org.tuntap.codec.DropReason;
import org.tuntap.codec.TestPackets;
import org.tuntap.codec.checksum.ChecksumPolicy;
import org.tuntap.codec.checksum.InternetChecksum;
import org.tuntap.codec.udp.UdpCodec;
import org.tuntap.codec.udp.UdpPackets;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Bad input is dropped and counted: never an exception out of the pipeline, never a closed channel, never a leak. */
class MalformedInputTest {

    private final Ipv4Codec ip = new Ipv4Codec();
    private final UdpCodec udp = new UdpCodec();
    private final EmbeddedChannel channel = new EmbeddedChannel(ip, udp);

    /** A valid packet with options and a UDP checksum: 10.1.2.3:21345 -> 172.16.2.2:12345, "hello". */
    private static ByteBuf valid() {
        ByteBuf out = PooledByteBufAllocator.DEFAULT.heapBuffer();
        ByteBuf payload = TestPackets.ascii("hello", StandardCharsets.US_ASCII);
        UdpPackets.write(out, new Ipv4Repr().source(0x0a010203).destination(0xac100202).options(new byte[] {1, 1, 1, 0}),
                21345, 12345, payload, true);
        payload.release();
        return out;
    }

    private void assertDropped(ByteBuf packet, DropReason reason) {
        long before = ip.dropCounters().get(reason) + udp.dropCounters().get(reason);
        assertFalse(channel.writeInbound(packet), "nothing comes out");
        assertEquals(before + 1, ip.dropCounters().get(reason) + udp.dropCounters().get(reason), reason.name());
        assertEquals(0, packet.refCnt(), "the dropped packet is released");
        assertTrue(channel.isOpen());
        channel.checkException();
    }

    @Test
    void everyTruncationIsDropped() {
        ByteBuf whole = valid();
        int length = whole.readableBytes();
        for (int cut = 0; cut < length; cut++) {
            ByteBuf truncated = PooledByteBufAllocator.DEFAULT.heapBuffer(cut + 1).writeBytes(whole, 0, cut); // never the shared EMPTY_BUFFER
            long before = ip.dropCounters().total() + udp.dropCounters().total();
            assertFalse(channel.writeInbound(truncated), "cut at " + cut);
            assertEquals(before + 1, ip.dropCounters().total() + udp.dropCounters().total(), "cut at " + cut);
            assertEquals(0, truncated.refCnt());
        }
        whole.release();
        // Short of the fixed header: TRUNCATED; header there but total length beyond the data: BAD_LENGTH.
        assertEquals(24, ip.dropCounters().get(DropReason.TRUNCATED), "lengths 0..19, and 20..23 where the options are cut");
        assertEquals(length - 24, ip.dropCounters().get(DropReason.BAD_LENGTH));
        assertEquals(0, udp.dropCounters().total());
        assertTrue(channel.isOpen());
        assertFalse(channel.finish());
    }

    @Test
    void headerFieldsOutOfRange() {
        ByteBuf ihl4 = valid();
        ihl4.setByte(0, 0x44);
        assertDropped(ihl4, DropReason.BAD_HEADER_LENGTH);

        ByteBuf version5 = valid();
        version5.setByte(0, 0x56);
        assertDropped(version5, DropReason.BAD_VERSION);

        ByteBuf tooLong = valid();
        tooLong.setShort(2, tooLong.readableBytes() + 1);
        assertDropped(tooLong, DropReason.BAD_LENGTH);

        ByteBuf shorterThanHeader = valid();
        shorterThanHeader.setShort(2, 23);
        assertDropped(shorterThanHeader, DropReason.BAD_LENGTH);

        ByteBuf badHeaderChecksum = valid();
        badHeaderChecksum.setByte(8, 63); // TTL changed, checksum not
        assertDropped(badHeaderChecksum, DropReason.BAD_CHECKSUM);

        ByteBuf mf = valid();
        fixHeader(mf, 6, 0x2000);
        assertDropped(mf, DropReason.FRAGMENT);

        ByteBuf offset = valid();
        fixHeader(offset, 6, 0x0001);
        assertDropped(offset, DropReason.FRAGMENT);
        assertFalse(channel.finish());
    }

    @Test
    void udpFieldsOutOfRange() {
        ByteBuf badUdpChecksum = valid();
        badUdpChecksum.setByte(badUdpChecksum.writerIndex() - 1, 'X');
        assertDropped(badUdpChecksum, DropReason.BAD_CHECKSUM);

        ByteBuf udpTooLong = valid();
        udpTooLong.setShort(24 + 4, 14); // 8 + 5 bytes carried
        assertDropped(udpTooLong, DropReason.BAD_LENGTH);

        ByteBuf udpTooShort = valid();
        udpTooShort.setShort(24 + 4, 7);
        assertDropped(udpTooShort, DropReason.BAD_LENGTH);
        assertFalse(channel.finish());
    }

    @Test
    void zeroUdpChecksumMeansNone() {
        ByteBuf noChecksum = valid();
        noChecksum.setByte(noChecksum.writerIndex() - 1, 'X');
        noChecksum.setShort(24 + 6, 0);
        assertTrue(channel.writeInbound(noChecksum));
        DatagramPacket datagram = channel.readInbound();
        assertEquals("hellX", datagram.content().toString(StandardCharsets.US_ASCII));
        datagram.release();
        assertFalse(channel.finish());
    }

    @Test
    void checksumPolicyOffSkipsVerification() {
        EmbeddedChannel trusting = new EmbeddedChannel(new Ipv4Codec().setChecksumPolicy(ChecksumPolicy.NONE),
                new UdpCodec().setChecksumPolicy(ChecksumPolicy.NONE));
        ByteBuf bad = valid();
        bad.setByte(8, 63);
        bad.setByte(bad.writerIndex() - 1, 'X');
        assertTrue(trusting.writeInbound(bad));
        DatagramPacket datagram = trusting.readInbound();
        assertEquals("hellX", datagram.content().toString(StandardCharsets.US_ASCII));
        datagram.release();
        assertFalse(trusting.finish());
    }

    @Test
    void trailingPaddingIsRemoved() {
        ByteBuf padded = valid();
        int total = padded.readableBytes();
        padded.writeZero(18); // e.g. Ethernet padding up to 60 bytes
        EmbeddedChannel ipOnly = new EmbeddedChannel(new Ipv4Codec());
        assertTrue(ipOnly.writeInbound(padded));
        Ipv4Packet packet = ipOnly.readInbound();
        assertEquals(total, packet.content().readableBytes());
        assertEquals(total - 24, packet.payloadLength());
        assertEquals("01010100", TestPackets.hex(packet.options()));
        packet.release();
        assertFalse(ipOnly.finish());
    }

    @Test
    void ipv6PassesUntouchedOrIsDropped() {
        byte[] ipv6 = TestPackets.bytes("6000000000081140" + "20010db8000000000000000000000001" + "20010db8000000000000000000000002" + "0035003500080000");
        ByteBuf packet = TestPackets.tracked(ipv6);
        assertTrue(channel.writeInbound(packet));
        assertSame(packet, channel.readInbound(), "passed on as it came");
        packet.release();

        Ipv4Codec dropping = new Ipv4Codec().setIpv6Handling(Ipv6Handling.DROP);
        EmbeddedChannel dropper = new EmbeddedChannel(dropping);
        ByteBuf again = TestPackets.tracked(ipv6);
        assertFalse(dropper.writeInbound(again));
        assertEquals(1, dropping.dropCounters().get(DropReason.IPV6));
        assertEquals(0, again.refCnt());
        assertFalse(dropper.finish());
        assertFalse(channel.finish());
    }

    @Test
    void randomBytesNeverEscape() {
        Random random = new Random(791);
        for (int round = 0; round < 3000; round++) {
            byte[] bytes = new byte[random.nextInt(80)];
            random.nextBytes(bytes);
            if (bytes.length > 0 && random.nextBoolean()) {
                bytes[0] = 0x45; // looks like IPv4, so the deeper checks run
            }
            ByteBuf buf = PooledByteBufAllocator.DEFAULT.heapBuffer(bytes.length + 1).writeBytes(bytes);
            channel.writeInbound(buf);
            Object out;
            while ((out = channel.readInbound()) != null) {
                ReferenceCountUtil.release(out); // an accidental IPv6-looking packet passes on
            }
            assertEquals(0, buf.refCnt());
            channel.checkException();
        }
        assertTrue(ip.dropCounters().total() > 2500, ip.dropCounters().toString());
        assertTrue(channel.isOpen());
        assertFalse(channel.finish());
    }

    @Test
    void strictModeRaisesAfterCounting() {
        Ipv4Codec strict = new Ipv4Codec().setStrict(true);
        EmbeddedChannel strictChannel = new EmbeddedChannel(strict);
        ByteBuf bad = valid();
        bad.setByte(0, 0x44);
        DecoderException e = assertThrows(DecoderException.class, () -> strictChannel.writeInbound(bad));
        assertTrue(e.getMessage().contains("BAD_HEADER_LENGTH"), e.getMessage());
        assertEquals(1, strict.dropCounters().get(DropReason.BAD_HEADER_LENGTH));
        assertEquals(0, bad.refCnt());
        assertTrue(strictChannel.isOpen());
        assertFalse(strictChannel.finish());
    }

    @Test
    void parseReportsReasonsWithoutThrowing() {
        ByteBuf bad = valid();
        bad.setByte(0, 0x44);
        assertEquals(DropReason.BAD_HEADER_LENGTH, Ipv4Packet.parse(bad, true).failure());
        assertEquals(DropReason.BAD_HEADER_LENGTH, UdpPackets.parse(bad).failure());
        assertEquals(1, bad.refCnt());
        bad.release();
        ByteBuf good = valid();
        Ipv4Packet parsed = Ipv4Packet.parse(good, true).value();
        assertNull(Ipv4Header.check(parsed.content(), parsed.content().readerIndex(), parsed.content().readableBytes(), true));
        parsed.release();
        assertEquals(1, good.refCnt(), "parse leaves the caller's reference alone");
        good.release();
    }

    @Test
    void outboundWithoutUsableAddressesFailsTheWrite() {
        ByteBuf payload = TestPackets.tracked(new byte[] {1});
        InetSocketAddress v6 = new InetSocketAddress("2001:db8::1", 9);
        assertFalse(channel.writeOneOutbound(new DatagramPacket(payload, v6)).isSuccess());
        assertEquals(0, payload.refCnt());
        ByteBuf payload2 = TestPackets.tracked(new byte[] {1});
        // no sender and no default local address
        assertFalse(channel.writeOneOutbound(new DatagramPacket(payload2, new InetSocketAddress("192.0.2.1", 9))).isSuccess());
        assertEquals(0, payload2.refCnt());
        assertFalse(channel.finish());
    }

    @Test
    void oversizeDatagramsFailTheWriteAndTheLargestFits() {
        EmbeddedChannel out = new EmbeddedChannel(new Ipv4Codec(), new UdpCodec());
        InetSocketAddress from = new InetSocketAddress("192.0.2.2", 1);
        InetSocketAddress to = new InetSocketAddress("192.0.2.1", 2);
        ByteBuf tooBig = PooledByteBufAllocator.DEFAULT.heapBuffer(65508).writeZero(65508);
        assertFalse(out.writeOneOutbound(new DatagramPacket(tooBig, to, from)).isSuccess());
        assertEquals(0, tooBig.refCnt());
        ByteBuf largest = PooledByteBufAllocator.DEFAULT.heapBuffer(65507).writeZero(65507);
        assertTrue(out.writeOutbound(new DatagramPacket(largest, to, from)));
        ByteBuf packet = out.readOutbound();
        assertEquals(65535, packet.readableBytes());
        assertEquals(65535, Ipv4Header.totalLength(packet, packet.readerIndex()));
        packet.release();
        assertFalse(out.finish());
    }

    @Test
    void ipv6FramesAndPiPacketsAreNeverParsedAsIpv4() {
        // An Ethernet frame typed IPv6 whose payload happens to start like IPv4, and a PI packet of IPv6.
        org.tuntap.codec.ethernet.EthernetFrame frame = new org.tuntap.codec.ethernet.EthernetFrame(
                org.tuntap.codec.ethernet.MacAddress.BROADCAST, org.tuntap.codec.ethernet.MacAddress.ZERO,
                org.tuntap.codec.EtherType.IPV6, TestPackets.buf(TestPackets.CHECK_VECTOR));
        Ipv4Codec dropping = new Ipv4Codec().setIpv6Handling(Ipv6Handling.DROP);
        EmbeddedChannel dropper = new EmbeddedChannel(dropping);
        assertFalse(dropper.writeInbound(frame));
        assertEquals(0, frame.refCnt());
        org.tuntap.codec.pi.PiPacket pi = new org.tuntap.codec.pi.PiPacket(0, 0x86DD, TestPackets.buf("60000000"));
        assertFalse(dropper.writeInbound(pi));
        assertEquals(2, dropping.dropCounters().get(DropReason.IPV6));
        assertEquals(0, pi.refCnt());
        assertFalse(dropper.finish());
    }

    /** Sets a 16-bit header word and fixes the header checksum incrementally. */
    private static void fixHeader(ByteBuf packet, int offset, int value) {
        int old = packet.getUnsignedShort(offset);
        packet.setShort(offset, value);
        packet.setShort(10, InternetChecksum.update(packet.getUnsignedShort(10), old, value));
    }
}
