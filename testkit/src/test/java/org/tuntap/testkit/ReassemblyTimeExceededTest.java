package org.tuntap.testkit;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;
import org.tuntap.codec.DropReason;
import org.tuntap.codec.checksum.InternetChecksum;
import org.tuntap.codec.fragment.Ipv4ReassemblyHandler;
import org.tuntap.codec.fragment.Ipv6ReassemblyHandler;
import org.tuntap.codec.icmp.IcmpHeader;
import org.tuntap.codec.icmp.Icmpv4Types;
import org.tuntap.codec.icmp.Icmpv6Types;
import org.tuntap.codec.ipv4.Ipv4Codec;
import org.tuntap.codec.ipv4.Ipv4Fragmenter;
import org.tuntap.codec.ipv4.Ipv4Header;
import org.tuntap.codec.ipv4.Ipv4Repr;
import org.tuntap.codec.ipv6.Ipv6Codec;
import org.tuntap.codec.ipv6.Ipv6Fragmenter;
import org.tuntap.codec.ipv6.Ipv6Header;
import org.tuntap.codec.ipv6.Ipv6Repr;
import org.tuntap.codec.udp.UdpCodec;
import org.tuntap.codec.udp.UdpHeader;
import org.tuntap.codec.udp.UdpPackets;
import org.tuntap.transport.TunMode;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * The reassembly handlers' optional ICMP "time exceeded, fragment reassembly time exceeded" on a
 * real {@code TunChannel} over the in-memory tunnel, the clock moved with {@code advanceTimeBy}
 * (no sleep): sent to the source when the first fragment came and the datagram expired, never
 * before the timeout, never without the first fragment, never to a group, never when off.
 */
class ReassemblyTimeExceededTest {
    private static final int HOST4 = 0xc0000201;   // 192.0.2.1, the sender of the fragments
    private static final int APP4 = 0xc6336402;    // 198.51.100.2, the application
    private static final long PREFIX6 = 0x20010db8_00000000L;

    private static TunnelHarness harness(boolean timeExceeded) {
        return TunnelHarness.builder().mode(TunMode.TUN)
                .handlers(new Ipv6Codec().setPassFragments(true), new Ipv6ReassemblyHandler().setSendTimeExceeded(timeExceeded),
                        new Ipv4Codec().setPassFragments(true), new Ipv4ReassemblyHandler().setSendTimeExceeded(timeExceeded),
                        new UdpCodec())
                .build();
    }

    /** The IPv4 fragments (MTU 1500) of a 4000-byte UDP datagram from {@link #HOST4} to {@code destination}. */
    private static List<byte[]> fragments4(int destination) {
        ByteBuf packet = PooledByteBufAllocator.DEFAULT.heapBuffer();
        ByteBuf payload = Unpooled.wrappedBuffer(new byte[4000]);
        UdpPackets.write(packet, new Ipv4Repr().source(HOST4).destination(destination).identification(31), 5000, 7, payload, true);
        return cut(Ipv4Fragmenter.fragment(PooledByteBufAllocator.DEFAULT, packet, 1500, true), packet);
    }

    /** The IPv6 fragments (MTU 1280) of a 3000-byte UDP datagram from 2001:db8::1 to {@code high}/{@code low}. */
    private static List<byte[]> fragments6(long high, long low) {
        int length = UdpHeader.LENGTH + 3000;
        ByteBuf packet = PooledByteBufAllocator.DEFAULT.heapBuffer(40 + length);
        new Ipv6Repr().source(PREFIX6, 1).destination(high, low).nextHeader(Ipv6Header.PROTOCOL_UDP).emit(packet, 0, length);
        packet.writerIndex(40 + length);
        ByteBuf payload = Unpooled.wrappedBuffer(new byte[3000]);
        UdpHeader.setIpv6(packet, 40, PREFIX6, 1, high, low, 5000, 7, payload, 0, 3000, true);
        return cut(Ipv6Fragmenter.fragment(PooledByteBufAllocator.DEFAULT, packet, 1280, 77), packet);
    }

    private static List<byte[]> cut(List<ByteBuf> fragments, ByteBuf packet) {
        packet.release();
        List<byte[]> bytes = new ArrayList<>();
        for (ByteBuf fragment : fragments) {
            bytes.add(ByteBufUtil.getBytes(fragment));
            fragment.release();
        }
        return bytes;
    }

    @Test
    void ipv4ExpiryWithTheFirstFragmentIsAnsweredWithTimeExceededToTheSource() {
        TunnelHarness harness = harness(true);
        List<byte[]> fragments = fragments4(APP4);
        harness.writeToTunnel(fragments.get(0));
        harness.writeToTunnel(fragments.get(2)); // the middle one never comes
        harness.advanceTimeBy(29, TimeUnit.SECONDS);
        assertNull(harness.readFromTunnel(), "nothing before the 30 s timeout");
        harness.advanceTimeBy(1, TimeUnit.SECONDS);
        byte[] written = harness.readFromTunnel();
        ByteBuf icmp = Unpooled.wrappedBuffer(written);
        assertEquals(0, InternetChecksum.checksum(icmp, 0, 20), "header checksum");
        assertEquals(APP4, Ipv4Header.source(icmp, 0), "from the address the datagram was sent to");
        assertEquals(HOST4, Ipv4Header.destination(icmp, 0), "to its source");
        assertEquals(Icmpv4Types.PROTOCOL, Ipv4Header.protocol(icmp, 0));
        assertEquals(Icmpv4Types.TIME_EXCEEDED, IcmpHeader.type(icmp, 20));
        assertEquals(1, IcmpHeader.code(icmp, 20), "fragment reassembly time exceeded");
        assertEquals(0, InternetChecksum.checksum(icmp, 20, written.length - 20), "ICMP checksum");
        assertEquals(576, written.length, "as much of the first fragment as fits in 576 bytes");
        assertArrayEquals(Arrays.copyOf(fragments.get(0), 576 - 28), Arrays.copyOfRange(written, 28, 576),
                "quoting the first fragment from its IP header");
        assertNull(harness.readFromTunnel(), "one message per datagram");
        assertFalse(harness.finish());
    }

    @Test
    void ipv6ExpiryWithTheFirstFragmentIsAnsweredWithTimeExceededToTheSource() {
        TunnelHarness harness = harness(true);
        List<byte[]> fragments = fragments6(PREFIX6, 2);
        harness.writeToTunnel(fragments.get(0));
        harness.advanceTimeBy(30, TimeUnit.SECONDS);
        byte[] written = harness.readFromTunnel();
        ByteBuf icmp = Unpooled.wrappedBuffer(written);
        assertEquals(2, Ipv6Header.sourceLow(icmp, 0), "from 2001:db8::2, where the datagram went");
        assertEquals(1, Ipv6Header.destinationLow(icmp, 0), "to 2001:db8::1, its source");
        assertEquals(Icmpv6Types.NEXT_HEADER, Ipv6Header.nextHeader(icmp, 0));
        assertEquals(Icmpv6Types.TIME_EXCEEDED, IcmpHeader.type(icmp, 40));
        assertEquals(1, IcmpHeader.code(icmp, 40));
        int length = written.length - 40;
        assertEquals(0, InternetChecksum.finish(InternetChecksum.add(
                InternetChecksum.pseudoHeaderSumIpv6(icmp, 0, Icmpv6Types.NEXT_HEADER, length), icmp, 40, length)),
                "ICMPv6 checksum over the pseudo-header");
        assertEquals(1280, written.length, "as much of the first fragment as fits in the minimum MTU");
        assertArrayEquals(Arrays.copyOf(fragments.get(0), 1280 - 48), Arrays.copyOfRange(written, 48, 1280));
        assertNull(harness.readFromTunnel());
        assertFalse(harness.finish());
    }

    @Test
    void withoutTheFirstFragmentNothingIsSentButTheExpiryIsCounted() {
        Ipv4ReassemblyHandler reassembly4 = new Ipv4ReassemblyHandler().setSendTimeExceeded(true);
        Ipv6ReassemblyHandler reassembly6 = new Ipv6ReassemblyHandler().setSendTimeExceeded(true);
        TunnelHarness harness = TunnelHarness.builder().mode(TunMode.TUN)
                .handlers(new Ipv6Codec().setPassFragments(true), reassembly6, new Ipv4Codec().setPassFragments(true),
                        reassembly4, new UdpCodec())
                .build();
        List<byte[]> fragments4 = fragments4(APP4);
        List<byte[]> fragments6 = fragments6(PREFIX6, 2);
        harness.writeToTunnel(fragments4.get(1));
        harness.writeToTunnel(fragments6.get(1));
        harness.advanceTimeBy(31, TimeUnit.SECONDS);
        assertNull(harness.readFromTunnel(), "RFC 792 and RFC 8200: only when fragment zero came");
        assertEquals(1, reassembly4.dropCounters().get(DropReason.REASSEMBLY_TIMEOUT));
        assertEquals(1, reassembly6.dropCounters().get(DropReason.REASSEMBLY_TIMEOUT));
        assertFalse(harness.finish());
    }

    @Test
    void offByDefaultAndNeverToAGroup() {
        TunnelHarness off = harness(false);
        off.writeToTunnel(fragments4(APP4).get(0));
        off.writeToTunnel(fragments6(PREFIX6, 2).get(0));
        off.advanceTimeBy(31, TimeUnit.SECONDS);
        assertNull(off.readFromTunnel(), "off by default");
        assertFalse(off.finish());

        TunnelHarness on = harness(true);
        on.writeToTunnel(fragments4(0xe0000001).get(0));                 // to 224.0.0.1
        on.writeToTunnel(fragments6(0xff02_0000_0000_0000L, 1).get(0)); // to ff02::1
        on.advanceTimeBy(31, TimeUnit.SECONDS);
        assertNull(on.readFromTunnel(), "no error about a datagram sent to a group (RFC 1122, RFC 4443)");
        assertFalse(on.finish());
    }
}
