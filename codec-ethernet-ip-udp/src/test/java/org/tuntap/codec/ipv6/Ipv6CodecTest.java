package org.tuntap.codec.ipv6;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.EncoderException;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.Test;
import org.tuntap.codec.DropReason;
import org.tuntap.codec.EtherType;
import org.tuntap.codec.TestPackets;
import org.tuntap.codec.buffer.Headroom;
import org.tuntap.codec.ethernet.EthernetFrame;
import org.tuntap.codec.ethernet.MacAddress;
import org.tuntap.codec.ipv4.Ipv4Codec;
import org.tuntap.codec.ipv4.Ipv4Datagram;
import org.tuntap.codec.ipv4.Ipv4Packet;
import org.tuntap.codec.pi.PiPacket;
import org.tuntap.codec.udp.UdpHeader;

import java.io.ByteArrayOutputStream;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Ipv6Codec: round trips, every truncation, malformed extension chains, limits; no leaks. */
class Ipv6CodecTest {

    private static final long SRC_HIGH = 0x20010db8_00000000L;
    private static final long SRC_LOW = 1;
    private static final long DST_HIGH = 0x20010db8_00000000L;
    private static final long DST_LOW = 2;
    private static final int HBH = Ipv6Header.HOP_BY_HOP;
    private static final int ROUTING = Ipv6Header.ROUTING;
    private static final int FRAGMENT = Ipv6Header.FRAGMENT;
    private static final int DEST = Ipv6Header.DESTINATION_OPTIONS;
    private static final int UDP = Ipv6Header.PROTOCOL_UDP;

    private final Ipv6Codec codec = new Ipv6Codec();
    private final EmbeddedChannel channel = new EmbeddedChannel(codec);

    // ---- building test packets: fixed header by Ipv6Repr, extension headers by hand ----

    /** An options-style extension header of {@code length} bytes (a multiple of 8), padded with a PadN option. */
    static byte[] ext(int next, int length) {
        byte[] h = new byte[length];
        h[0] = (byte) next;
        h[1] = (byte) (length / 8 - 1);
        h[2] = 1; // PadN
        h[3] = (byte) (length - 4);
        return h;
    }

    static byte[] frag(int next, int offsetUnits, boolean more, int id) {
        ByteBuf b = Unpooled.buffer(8).writerIndex(8);
        Ipv6ExtensionHeader.setFragment(b, 0, next, offsetUnits, more, id);
        return b.array();
    }

    /** A UDP datagram 40000 -> 9999 with a correct IPv6 checksum. */
    static byte[] udp(byte[] payload) {
        return udp(payload, DST_HIGH, DST_LOW);
    }

    static byte[] udp(byte[] payload, long destinationHigh, long destinationLow) {
        ByteBuf b = Unpooled.buffer(8 + payload.length).writerIndex(8).writeBytes(payload);
        UdpHeader.setIpv6(b, 0, SRC_HIGH, SRC_LOW, destinationHigh, destinationLow, 40000, 9999, b, 8, payload.length, true);
        return b.array();
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    /** A pooled (leak-tracked) packet: the fixed header, then {@code rest}. */
    static ByteBuf packet(int firstNextHeader, byte[] rest, boolean direct) {
        ByteBuf b = direct ? PooledByteBufAllocator.DEFAULT.directBuffer(40 + rest.length)
                : PooledByteBufAllocator.DEFAULT.heapBuffer(40 + rest.length);
        new Ipv6Repr().source(SRC_HIGH, SRC_LOW).destination(DST_HIGH, DST_LOW).nextHeader(firstNextHeader)
                .emit(b, 0, rest.length);
        return b.writerIndex(40).writeBytes(rest);
    }

    static ByteBuf packet(int firstNextHeader, byte[] rest) {
        return packet(firstNextHeader, rest, false);
    }

    private Ipv6Packet decoded(Object in) {
        assertTrue(channel.writeInbound(in), "passed up");
        return assertInstanceOf(Ipv6Packet.class, channel.readInbound());
    }

    private void assertDropped(ByteBuf in, DropReason reason) {
        long before = codec.dropCounters().get(reason);
        assertFalse(channel.writeInbound(in), "nothing comes out");
        assertEquals(before + 1, codec.dropCounters().get(reason), reason.name());
        assertEquals(0, in.refCnt(), "the dropped packet is released");
        assertTrue(channel.isOpen());
        channel.checkException();
    }

    // ---- tests ----

    @Test
    void fixedHeaderFieldsRoundTrip() throws Exception {
        Inet6Address from = (Inet6Address) InetAddress.getByName("2001:db8::1");
        Inet6Address to = (Inet6Address) InetAddress.getByName("2001:db8:0:1::ff");
        ByteBuf segment = PooledByteBufAllocator.DEFAULT.directBuffer()
                .writeBytes(udp("ping".getBytes(), Ipv6Addresses.high(to), Ipv6Addresses.low(to)));
        EmbeddedChannel out = new EmbeddedChannel(new Ipv6Codec().setHopLimit(7).setTrafficClass(0xb9).setFlowLabel(0xabcde));
        assertTrue(out.writeOutbound(new Ipv6Datagram(from, to, UDP, segment)));
        ByteBuf wire = out.readOutbound();
        assertEquals("6b9abcde" + "000c" + "11" + "07" + "20010db8000000000000000000000001" + "20010db80000000100000000000000ff",
                TestPackets.hex(wire).substring(0, 80), "the fixed header, byte for byte");
        assertEquals(1, segment.refCnt(), "the datagram is released; the packet holds the segment behind its header, not a copy");

        Ipv6Packet packet = decoded(wire);
        assertEquals(6, packet.version());
        assertEquals(0xb9, packet.trafficClass());
        assertEquals(0xb9 >>> 2, packet.dscp());
        assertEquals(1, packet.ecn());
        assertEquals(0xabcde, packet.flowLabel());
        assertEquals(12, packet.payloadLength());
        assertEquals(UDP, packet.nextHeader());
        assertEquals(7, packet.hopLimit());
        assertEquals(from, packet.source());
        assertEquals(to, packet.destination());
        assertEquals(UDP, packet.upperLayerProtocol());
        assertEquals(packet.content().readerIndex() + 40, packet.upperLayerIndex());
        assertEquals(12, packet.upperLayerLength());
        assertFalse(packet.hasFragmentHeader());
        assertFalse(packet.isFragment());
        assertEquals(-1, packet.fragmentHeaderIndex());
        assertNull(UdpHeader.checkIpv6(packet.content(), packet.upperLayerIndex(), packet.upperLayerLength(),
                packet.content().readerIndex(), true));
        assertEquals("ping", packet.upperLayerPayload().toString(8, 4, java.nio.charset.StandardCharsets.US_ASCII));
        packet.release();
        assertEquals(0, segment.refCnt());
        assertFalse(out.finish());
        assertFalse(channel.finish());
    }

    @Test
    void randomRoundTripsUpToTheLargestPayload() {
        Random random = new Random(8200);
        EmbeddedChannel out = new EmbeddedChannel(new Ipv6Codec());
        for (int round = 0; round < 100; round++) {
            int length = round == 0 ? Ipv6Header.MAX_PAYLOAD_LENGTH - 8 : random.nextInt(round < 50 ? 1500 : 65528);
            byte[] payload = new byte[length];
            random.nextBytes(payload);
            long sh = random.nextLong(), sl = random.nextLong(), dh = random.nextLong(), dl = random.nextLong();
            ByteBuf data = random.nextBoolean() ? PooledByteBufAllocator.DEFAULT.directBuffer(length + 1)
                    : PooledByteBufAllocator.DEFAULT.heapBuffer(length + 1);
            data.writeBytes(payload);
            ByteBuf segment = Headroom.prepend(PooledByteBufAllocator.DEFAULT, data, UdpHeader.LENGTH);
            UdpHeader.setIpv6(Headroom.headerBuffer(segment), segment.readerIndex(), sh, sl, dh, dl, 1 + round, 9999,
                    data, data.readerIndex(), length, true);
            data.release();
            assertTrue(out.writeOutbound(new Ipv6Datagram(sh, sl, dh, dl, UDP, segment)));
            ByteBuf wire = out.readOutbound();
            assertEquals(40 + 8 + length, wire.readableBytes());

            Ipv6Packet packet = decoded(wire);
            assertEquals(sh, packet.sourceHigh());
            assertEquals(sl, packet.sourceLow());
            assertEquals(dh, packet.destinationHigh());
            assertEquals(dl, packet.destinationLow());
            assertNull(UdpHeader.checkIpv6(packet.content(), packet.upperLayerIndex(), packet.upperLayerLength(),
                    packet.content().readerIndex(), true), "round " + round);
            assertEquals(Unpooled.wrappedBuffer(payload), packet.upperLayerPayload().slice(8, length));
            packet.release();
        }
        assertFalse(out.finish());
        assertFalse(channel.finish());
    }

    @Test
    void udpChecksumOverThePseudoHeaderMatchesANaiveSum() {
        byte[] segment = udp("odd".getBytes());
        byte[] pseudo = concat(TestPackets.bytes("20010db8000000000000000000000001 20010db8000000000000000000000002"),
                TestPackets.bytes("0000000b 00000011"), segment);
        assertEquals(0, TestPackets.naiveChecksum(pseudo, 0, pseudo.length), "verifies over the RFC 8200 pseudo-header");

        ByteBuf zero = packet(UDP, segment);
        zero.setShort(40 + 6, 0);
        assertEquals(DropReason.BAD_CHECKSUM, UdpHeader.checkIpv6(zero, 40, segment.length, 0, true), "mandatory over IPv6");
        assertNull(UdpHeader.checkIpv6(zero, 40, segment.length, 0, false));
        zero.setShort(40 + 6, 0x1234);
        assertEquals(DropReason.BAD_CHECKSUM, UdpHeader.checkIpv6(zero, 40, segment.length, 0, true));
        assertEquals(DropReason.TRUNCATED, UdpHeader.checkIpv6(zero, 40, 7, 0, true));
        assertEquals(DropReason.BAD_LENGTH, UdpHeader.checkIpv6(zero, 40, 10, 0, true));
        zero.release();
        assertFalse(channel.finish());
    }

    @Test
    void everyTruncationIsDropped() {
        for (boolean direct : new boolean[] {false, true}) {
            ByteBuf whole = packet(HBH, concat(ext(DEST, 8), ext(UDP, 16), udp("hello".getBytes())), direct);
            int length = whole.readableBytes();
            long truncated = codec.dropCounters().get(DropReason.TRUNCATED);
            long badLength = codec.dropCounters().get(DropReason.BAD_LENGTH);
            for (int cut = 1; cut < length; cut++) { // an empty buffer is nobody's IPv6: it passes on (Ipv4Codec drops it)
                ByteBuf in = (direct ? PooledByteBufAllocator.DEFAULT.directBuffer(cut) : PooledByteBufAllocator.DEFAULT.heapBuffer(cut))
                        .writeBytes(whole, 0, cut);
                assertFalse(channel.writeInbound(in), "cut at " + cut);
                assertEquals(0, in.refCnt());
            }
            assertEquals(truncated + 39, codec.dropCounters().get(DropReason.TRUNCATED), "1..39 bytes: no fixed header");
            assertEquals(badLength + length - 40, codec.dropCounters().get(DropReason.BAD_LENGTH), "the payload length says more");
            assertEquals(length, decoded(whole).content().readableBytes());
            ReferenceCountUtil.release(whole);
        }
        // An Ethernet frame of type IPv6 is IPv6 even when empty.
        EthernetFrame empty = new EthernetFrame(MacAddress.BROADCAST, MacAddress.ZERO, EtherType.IPV6, PooledByteBufAllocator.DEFAULT.heapBuffer(1));
        long before = codec.dropCounters().get(DropReason.TRUNCATED);
        assertFalse(channel.writeInbound(empty));
        assertEquals(before + 1, codec.dropCounters().get(DropReason.TRUNCATED));
        assertEquals(0, empty.refCnt());
        assertFalse(channel.finish());
    }

    @Test
    void everyCutOfThePayloadLengthIntoTheChainIsTruncated() {
        byte[] rest = concat(ext(ROUTING, 8), ext(FRAGMENT, 24), frag(UDP, 0, false, 7), udp("x".getBytes()));
        int chain = 8 + 24 + 8;
        for (int payloadLength = 0; payloadLength < chain; payloadLength++) {
            ByteBuf in = packet(DEST, rest);
            in.setShort(4, payloadLength); // the rest is padding now, and the chain runs past the payload
            assertDropped(in, DropReason.TRUNCATED);
        }
        assertFalse(channel.finish());
    }

    @Test
    void chainOfEveryWalkedHeaderReachesTheUpperLayer() {
        // Each header names the next: hop-by-hop(8) destination options(8) routing(16) fragment(8) destination options(8), UDP.
        Ipv6Packet packet = decoded(packet(HBH, concat(ext(DEST, 8), ext(ROUTING, 8), ext(FRAGMENT, 16),
                frag(DEST, 0, false, 99), ext(UDP, 8), udp("chain".getBytes()))));
        assertEquals(UDP, packet.upperLayerProtocol());
        assertEquals(40 + 8 + 8 + 16 + 8 + 8, packet.upperLayerIndex());
        assertEquals(13, packet.upperLayerLength());
        assertTrue(packet.hasFragmentHeader());
        assertEquals(40 + 8 + 8 + 16, packet.fragmentHeaderIndex());
        assertFalse(packet.isFragment(), "an atomic fragment (RFC 6946) is a whole packet");
        assertEquals(99, packet.fragmentIdentification());
        packet.release();
        assertEquals(0, codec.dropCounters().total());
        assertFalse(channel.finish());
    }

    @Test
    void malformedChainsAreDropped() {
        assertDropped(packet(DEST, concat(ext(HBH, 8), ext(UDP, 8), udp(new byte[0]))), DropReason.BAD_EXTENSION_HEADER);
        assertDropped(packet(FRAGMENT, concat(frag(FRAGMENT, 0, false, 1), frag(UDP, 0, false, 1), udp(new byte[0]))),
                DropReason.BAD_EXTENSION_HEADER);
        // More fragments, but the data is not a multiple of 8 bytes (RFC 8200 section 4.5).
        assertDropped(packet(FRAGMENT, concat(frag(UDP, 0, true, 1), new byte[12])), DropReason.BAD_EXTENSION_HEADER);
        // Offset + data beyond 65535 bytes of reassembled payload.
        assertDropped(packet(FRAGMENT, concat(frag(UDP, 8190, false, 1), new byte[64])), DropReason.BAD_EXTENSION_HEADER);
        // A header's length field says more than the payload holds.
        byte[] tooLong = ext(UDP, 8);
        tooLong[1] = 1;
        assertDropped(packet(DEST, concat(tooLong, new byte[4])), DropReason.TRUNCATED);
        assertEquals(0, codec.dropCounters().get(DropReason.EXTENSION_LIMIT));
        assertFalse(channel.finish());
    }

    @Test
    void chainLimitsAreEnforced() {
        byte[] eight = new byte[0];
        for (int i = 0; i < 8; i++) {
            eight = concat(eight, ext(i == 7 ? UDP : DEST, 8));
        }
        Ipv6Packet atLimit = decoded(packet(DEST, concat(eight, udp(new byte[0]))));
        assertEquals(UDP, atLimit.upperLayerProtocol());
        atLimit.release();
        byte[] nine = concat(ext(DEST, 8), eight);
        assertDropped(packet(DEST, concat(nine, udp(new byte[0]))), DropReason.EXTENSION_LIMIT);

        // 2048 bytes of headers pass, 2056 do not.
        byte[] big = concat(ext(DEST, 2048), udp(new byte[0]));
        big[0] = (byte) UDP;
        decoded(packet(HBH, big)).release();
        assertDropped(packet(HBH, concat(ext(DEST, 2048), ext(UDP, 8), udp(new byte[0]))), DropReason.EXTENSION_LIMIT);

        Ipv6Codec tight = new Ipv6Codec().setExtensionLimits(1, 16);
        EmbeddedChannel strictChain = new EmbeddedChannel(tight);
        ByteBuf two = packet(HBH, concat(ext(DEST, 8), ext(UDP, 8), udp(new byte[0])));
        assertFalse(strictChain.writeInbound(two));
        ByteBuf long24 = packet(DEST, concat(ext(UDP, 24), udp(new byte[0])));
        assertFalse(strictChain.writeInbound(long24));
        assertEquals(2, tight.dropCounters().get(DropReason.EXTENSION_LIMIT));
        assertEquals(0, two.refCnt() + long24.refCnt());
        assertFalse(strictChain.finish());
        assertFalse(channel.finish());
    }

    @Test
    void unknownAndNoNextHeadersAreTheUpperLayer() {
        Ipv6Packet unknown = decoded(packet(DEST, concat(ext(253, 8), new byte[5])));
        assertEquals(253, unknown.upperLayerProtocol());
        assertEquals(48, unknown.upperLayerIndex());
        assertEquals(5, unknown.upperLayerLength());
        unknown.release();
        Ipv6Packet nothing = decoded(packet(Ipv6Header.NO_NEXT_HEADER, new byte[0]));
        assertEquals(Ipv6Header.NO_NEXT_HEADER, nothing.upperLayerProtocol());
        assertEquals(0, nothing.upperLayerLength());
        nothing.release();
        assertFalse(channel.finish());
    }

    /** Martians as Linux drops them; the unspecified source only where neighbour discovery and MLD use it. */
    @Test
    void packetsFromSourcesNoHostSendsFromAreMartians() {
        long multicastHigh = 0xff02_0000_0000_0000L;
        assertDropped(from(multicastHigh, 1, UDP), DropReason.MARTIAN); // ff02::1, all nodes
        assertDropped(from(0, 1, UDP), DropReason.MARTIAN); // ::1 from a device
        assertDropped(from(0, 0, UDP), DropReason.MARTIAN); // :: under UDP: no one to answer
        assertDropped(from(multicastHigh, 1, Ipv6Header.PROTOCOL_ICMPV6), DropReason.MARTIAN);
        // A duplicate-address probe comes from ::, under ICMPv6: passed on for neighbour discovery.
        Ipv6Packet probe = decoded(from(0, 0, Ipv6Header.PROTOCOL_ICMPV6));
        assertEquals(Ipv6Header.PROTOCOL_ICMPV6, probe.upperLayerProtocol());
        probe.release();
        assertEquals(4, codec.dropCounters().get(DropReason.MARTIAN));
        assertFalse(channel.finish());
    }

    private static ByteBuf from(long sourceHigh, long sourceLow, int nextHeader) {
        ByteBuf b = PooledByteBufAllocator.DEFAULT.heapBuffer(48);
        new Ipv6Repr().source(sourceHigh, sourceLow).destination(DST_HIGH, DST_LOW).nextHeader(nextHeader).emit(b, 0, 8);
        return b.writerIndex(48);
    }

    @Test
    void fragmentsAreDroppedUnlessPassed() {
        assertDropped(packet(FRAGMENT, concat(frag(UDP, 0, true, 5), new byte[16])), DropReason.FRAGMENT);
        assertDropped(packet(FRAGMENT, concat(frag(UDP, 2, false, 5), new byte[3])), DropReason.FRAGMENT);

        EmbeddedChannel passing = new EmbeddedChannel(new Ipv6Codec().setPassFragments(true));
        // A later fragment: the walk stops at the fragment header, whatever its data looks like.
        assertTrue(passing.writeInbound(packet(FRAGMENT, concat(frag(HBH, 2, true, 0x89abcdef), ext(UDP, 8), new byte[8]))));
        Ipv6Packet later = passing.readInbound();
        assertTrue(later.isFragment());
        assertEquals(2, later.fragmentOffset());
        assertTrue(later.moreFragments());
        assertEquals(0x89abcdef, later.fragmentIdentification());
        assertEquals(HBH, later.upperLayerProtocol(), "the fragment header's next header");
        assertEquals(48, later.upperLayerIndex());
        later.release();
        assertFalse(passing.finish());
        assertFalse(channel.finish());
    }

    @Test
    void paddingIsCutAndTheInputBufferIsTakenOver() {
        ByteBuf padded = packet(UDP, udp("pad".getBytes()));
        padded.writeZero(13);
        Ipv6Packet packet = decoded(padded);
        assertSame(padded, packet.content(), "no slice: the packet holds the buffer the channel read");
        assertEquals(40 + 11, packet.content().readableBytes());
        packet.release();
        assertEquals(0, padded.refCnt());
        assertFalse(channel.finish());
    }

    @Test
    void acceptsPiPacketsAndEthernetFramesOfIpv6() {
        ByteBuf content = packet(UDP, udp("pi".getBytes()));
        Ipv6Packet fromPi = decoded(new PiPacket(0, EtherType.IPV6, content));
        assertSame(content, fromPi.content());
        fromPi.release();

        ByteBuf frameContent = packet(UDP, udp("tap".getBytes()));
        Ipv6Packet fromFrame = decoded(new EthernetFrame(MacAddress.BROADCAST, MacAddress.ZERO, EtherType.IPV6, frameContent));
        assertEquals(51, fromFrame.content().readableBytes());
        fromFrame.release();

        // The family is the frame's: an IPv6 frame carrying version 4 is bad.
        ByteBuf v4 = packet(UDP, udp(new byte[0]));
        v4.setByte(0, 0x45);
        EthernetFrame lying = new EthernetFrame(MacAddress.BROADCAST, MacAddress.ZERO, EtherType.IPV6, v4);
        assertFalse(channel.writeInbound(lying));
        assertEquals(1, codec.dropCounters().get(DropReason.BAD_VERSION));
        assertEquals(0, lying.refCnt());
        assertFalse(channel.finish());
    }

    @Test
    void everythingElsePassesUntouched() {
        ByteBuf ipv4 = TestPackets.buf(TestPackets.CHECK_VECTOR);
        ByteBuf empty = PooledByteBufAllocator.DEFAULT.heapBuffer(1);
        EthernetFrame arp = new EthernetFrame(MacAddress.BROADCAST, MacAddress.ZERO, EtherType.ARP, PooledByteBufAllocator.DEFAULT.heapBuffer(1).writeByte(6 << 4));
        PiPacket ipv4Pi = new PiPacket(0, EtherType.IPV4, PooledByteBufAllocator.DEFAULT.heapBuffer(1).writeByte(6 << 4));
        for (Object msg : new Object[] {ipv4, empty, arp, ipv4Pi}) {
            assertTrue(channel.writeInbound(msg));
            assertSame(msg, channel.readInbound());
            ReferenceCountUtil.release(msg);
        }
        Ipv4Datagram v4out = new Ipv4Datagram(0x0a000001, 0x0a000002, 17, PooledByteBufAllocator.DEFAULT.heapBuffer(1).writeByte(1));
        assertTrue(channel.writeOutbound(v4out));
        assertSame(v4out, channel.readOutbound());
        v4out.release();
        assertEquals(0, codec.dropCounters().total());
        assertFalse(channel.finish());
    }

    @Test
    void sharesAPipelineWithIpv4Codec() {
        EmbeddedChannel both = new EmbeddedChannel(new Ipv4Codec(), new Ipv6Codec());
        assertTrue(both.writeInbound(TestPackets.buf(TestPackets.CHECK_VECTOR)));
        assertTrue(both.writeInbound(packet(UDP, udp("six".getBytes()))));
        Ipv4Packet four = assertInstanceOf(Ipv4Packet.class, both.readInbound());
        Ipv6Packet six = assertInstanceOf(Ipv6Packet.class, both.readInbound());
        four.release();
        six.release();
        assertFalse(both.finish());
        assertFalse(channel.finish());
    }

    @Test
    void sitsAboveTheFusedIpv4UdpLayersWithoutSplittingThem() throws Exception {
        // Ipv4Codec and UdpCodec adjacent (so they may run fused); IPv6 passes through both, both ways.
        EmbeddedChannel dual = new EmbeddedChannel(new Ipv4Codec(), new org.tuntap.codec.udp.UdpCodec(), new Ipv6Codec());
        assertTrue(dual.writeInbound(TestPackets.buf(TestPackets.CHECK_VECTOR)));
        io.netty.channel.socket.DatagramPacket udp4 = assertInstanceOf(io.netty.channel.socket.DatagramPacket.class, dual.readInbound());
        assertEquals("hi", udp4.content().toString(java.nio.charset.StandardCharsets.US_ASCII));
        udp4.release();
        assertTrue(dual.writeInbound(packet(UDP, udp("six".getBytes()))));
        Ipv6Packet six = assertInstanceOf(Ipv6Packet.class, dual.readInbound());
        six.release();

        ByteBuf segment = PooledByteBufAllocator.DEFAULT.heapBuffer().writeBytes(udp("out".getBytes()));
        assertTrue(dual.writeOutbound(new Ipv6Datagram(SRC_HIGH, SRC_LOW, DST_HIGH, DST_LOW, UDP, segment)));
        ByteBuf wire = dual.readOutbound();
        assertEquals(6, Ipv6Header.version(wire, wire.readerIndex()));
        assertEquals(51, wire.readableBytes());
        wire.release();
        assertTrue(dual.writeOutbound(new io.netty.channel.socket.DatagramPacket(
                PooledByteBufAllocator.DEFAULT.heapBuffer().writeByte('4'),
                new java.net.InetSocketAddress("192.0.2.1", 9), new java.net.InetSocketAddress("192.0.2.2", 9))));
        ByteBuf wire4 = dual.readOutbound();
        assertEquals(0x45, wire4.getUnsignedByte(wire4.readerIndex()));
        wire4.release();
        assertFalse(dual.finish());
        assertFalse(channel.finish());
    }

    @Test
    void ipv6PacketsAreSentAsTheyAre() {
        ByteBuf in = packet(UDP, udp("as is".getBytes()));
        Ipv6Packet packet = Ipv6Packet.parse(in).value();
        in.release(); // parse retained a slice; the packet now holds the only reference
        assertTrue(channel.writeOutbound(packet));
        ByteBuf sent = channel.readOutbound();
        assertSame(packet.content(), sent);
        sent.release();
        assertEquals(0, packet.refCnt());
        assertFalse(channel.finish());
    }

    @Test
    void oversizedDatagramFailsTheWriteAndIsReleased() {
        ByteBuf segment = PooledByteBufAllocator.DEFAULT.heapBuffer(Ipv6Header.MAX_PAYLOAD_LENGTH + 1).writeZero(Ipv6Header.MAX_PAYLOAD_LENGTH + 1);
        ChannelFuture write = channel.writeOneOutbound(new Ipv6Datagram(SRC_HIGH, SRC_LOW, DST_HIGH, DST_LOW, UDP, segment));
        channel.flushOutbound();
        assertInstanceOf(EncoderException.class, write.cause());
        assertEquals(0, segment.refCnt());
        assertNull(channel.readOutbound());
        assertFalse(channel.finish());
    }

    @Test
    void strictModeRaisesAndStillReleases() {
        EmbeddedChannel strict = new EmbeddedChannel(new Ipv6Codec().setStrict(true));
        ByteBuf bad = packet(DEST, concat(ext(HBH, 8), ext(UDP, 8)));
        assertThrows(DecoderException.class, () -> strict.writeInbound(bad));
        assertEquals(0, bad.refCnt());
        assertTrue(strict.isOpen());
        assertFalse(strict.finish());
        assertFalse(channel.finish());
    }

    @Test
    void parseLeavesTheInputAlone() {
        ByteBuf in = packet(UDP, udp("p".getBytes()));
        in.writeZero(3);
        Ipv6Packet parsed = Ipv6Packet.parse(in).value();
        assertEquals(49, parsed.content().readableBytes());
        assertEquals(52, in.readableBytes());
        parsed.release();
        in.setByte(0, 0x45);
        assertEquals(DropReason.BAD_VERSION, Ipv6Packet.parse(in).failure());
        assertEquals(1, in.refCnt());
        in.release();
        assertFalse(channel.finish());
    }

    @Test
    void randomAndMutatedInputNeverEscapes() {
        Random random = new Random(2460);
        ByteBuf seedPacket = packet(HBH, concat(ext(FRAGMENT, 8), frag(ROUTING, 0, false, 3), ext(UDP, 16), udp("seed".getBytes())));
        byte[] seed = io.netty.buffer.ByteBufUtil.getBytes(seedPacket);
        seedPacket.release();
        int seedLength = seed.length;
        for (int round = 0; round < 10000; round++) {
            byte[] bytes;
            if (random.nextBoolean()) {
                bytes = new byte[random.nextInt(120)];
                random.nextBytes(bytes);
            } else {
                bytes = java.util.Arrays.copyOf(seed, seedLength - random.nextInt(8));
                for (int flips = 1 + random.nextInt(4); flips > 0; flips--) {
                    bytes[4 + random.nextInt(bytes.length - 4)] = (byte) random.nextInt(256);
                }
            }
            if (bytes.length > 0) {
                bytes[0] = (byte) (0x60 | (bytes[0] & 0x0F));
            }
            ByteBuf buf = (round % 2 == 0 ? PooledByteBufAllocator.DEFAULT.directBuffer(bytes.length + 1)
                    : PooledByteBufAllocator.DEFAULT.heapBuffer(bytes.length + 1)).writeBytes(bytes);
            channel.writeInbound(buf);
            Object out;
            while ((out = channel.readInbound()) != null) {
                if (out instanceof Ipv6Packet p) {
                    assertTrue(p.upperLayerIndex() + p.upperLayerLength() <= p.content().writerIndex());
                    assertTrue(p.upperLayerLength() >= 0);
                }
                ReferenceCountUtil.release(out);
            }
            assertEquals(0, buf.refCnt());
            channel.checkException();
        }
        assertTrue(codec.dropCounters().total() > 5000, codec.dropCounters().toString());
        assertFalse(channel.finish());
    }
}
