package org.tuntap.codec.fragment;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.DatagramPacket;
import org.junit.jupiter.api.Test;
import org.tuntap.codec.DropReason;
import org.tuntap.codec.TestPackets;
import org.tuntap.codec.ipv4.Ipv4Codec;
import org.tuntap.codec.ipv4.Ipv4Header;
import org.tuntap.codec.udp.UdpCodec;
import org.tuntap.codec.udp.UdpPackets;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** IPv4 fragments in the pipeline: put back together before the UDP layer, bounded in time. */
class Ipv4ReassemblyHandlerTest {

    private static final InetSocketAddress PEER = new InetSocketAddress("192.0.2.1", 40000);
    private static final InetSocketAddress APP = new InetSocketAddress("192.0.2.2", 7);

    /** A UDP datagram of {@code payload} cut into IPv4 fragments of at most {@code dataPerFragment} data bytes. */
    private static List<byte[]> fragments(byte[] payload, int dataPerFragment) {
        ByteBuf data = TestPackets.tracked(payload);
        ByteBuf whole = UdpPackets.build(PooledByteBufAllocator.DEFAULT, PEER, APP, data);
        data.release();
        try {
            int headerLength = Ipv4Header.headerLength(whole, 0);
            int dataLength = whole.readableBytes() - headerLength;
            List<byte[]> fragments = new ArrayList<>();
            for (int offset = 0; offset < dataLength; offset += dataPerFragment) {
                int length = Math.min(dataPerFragment, dataLength - offset);
                ByteBuf fragment = PooledByteBufAllocator.DEFAULT.heapBuffer(headerLength + length);
                fragment.writeBytes(whole, 0, headerLength).writeBytes(whole, headerLength + offset, length);
                Ipv4Header.setTotalLength(fragment, 0, headerLength + length);
                Ipv4Header.setFragment(fragment, 0, offset + length < dataLength, offset >> 3);
                Ipv4Header.updateChecksum(fragment, 0);
                fragments.add(ByteBufUtil.getBytes(fragment));
                fragment.release();
            }
            return fragments;
        } finally {
            whole.release();
        }
    }

    private static byte[] payload(int size) {
        byte[] payload = new byte[size];
        new Random(size).nextBytes(payload);
        return payload;
    }

    @Test
    void fragmentsInAnyOrderBecomeOneDatagramWhoseChecksumVerifies() {
        for (boolean reversed : new boolean[] {false, true}) {
            Ipv4ReassemblyHandler reassembly = new Ipv4ReassemblyHandler();
            UdpCodec udp = new UdpCodec();
            EmbeddedChannel channel = new EmbeddedChannel(new Ipv4Codec().setPassFragments(true), reassembly, udp);
            byte[] payload = payload(4000);
            List<byte[]> fragments = fragments(payload, 1480);
            assertEquals(3, fragments.size());
            if (reversed) {
                Collections.reverse(fragments);
            }
            for (int i = 0; i < fragments.size(); i++) {
                boolean last = i == fragments.size() - 1;
                assertEquals(last, channel.writeInbound(TestPackets.tracked(fragments.get(i))), "fragment " + i);
            }
            DatagramPacket datagram = channel.readInbound();
            assertArrayEquals(payload, ByteBufUtil.getBytes(datagram.content()), "reversed: " + reversed);
            assertEquals(PEER, datagram.sender());
            assertEquals(APP, datagram.recipient());
            datagram.release();
            assertEquals(0, udp.dropCounters().total(), "the UDP checksum over the whole datagram verified");
            assertEquals(0, reassembly.bytesHeld());
            assertFalse(channel.finish());
        }
    }

    @Test
    void withoutPassFragmentsTheIpv4LayerStillDropsThem() {
        Ipv4Codec ipv4 = new Ipv4Codec();
        EmbeddedChannel channel = new EmbeddedChannel(ipv4, new Ipv4ReassemblyHandler(), new UdpCodec());
        for (byte[] fragment : fragments(payload(3000), 1480)) {
            assertFalse(channel.writeInbound(TestPackets.tracked(fragment)));
        }
        assertEquals(3, ipv4.dropCounters().get(DropReason.FRAGMENT));
        assertFalse(channel.finish());
    }

    @Test
    void anIncompleteDatagramExpiresOnTheLoopsClockAndIsReleased() {
        Ipv4ReassemblyHandler reassembly = new Ipv4ReassemblyHandler();
        EmbeddedChannel channel = new EmbeddedChannel(new Ipv4Codec().setPassFragments(true), reassembly, new UdpCodec());
        List<byte[]> fragments = fragments(payload(4000), 1480);
        channel.writeInbound(TestPackets.tracked(fragments.get(0)));
        channel.writeInbound(TestPackets.tracked(fragments.get(2)));
        assertTrue(reassembly.bytesHeld() > 0);
        channel.advanceTimeBy(29, TimeUnit.SECONDS);
        channel.runScheduledPendingTasks();
        assertEquals(0, reassembly.dropCounters().get(DropReason.REASSEMBLY_TIMEOUT), "not yet: 30 s");
        channel.advanceTimeBy(2, TimeUnit.SECONDS);
        channel.runScheduledPendingTasks();
        assertEquals(1, reassembly.dropCounters().get(DropReason.REASSEMBLY_TIMEOUT));
        assertEquals(0, reassembly.bytesHeld(), "every fragment released");
        // The missing fragment alone, late, completes nothing.
        assertFalse(channel.writeInbound(TestPackets.tracked(fragments.get(1))));
        assertNull(channel.readInbound());
        assertFalse(channel.finish(), "closing releases what is still held");
    }

    @Test
    void wholePacketsStillTakeTheFusedPathThroughIt() {
        EmbeddedChannel channel = new EmbeddedChannel(new Ipv4Codec().setPassFragments(true), new Ipv4ReassemblyHandler(),
                new UdpCodec());
        ByteBuf data = TestPackets.tracked(payload(100));
        ByteBuf packet = UdpPackets.build(PooledByteBufAllocator.DEFAULT, PEER, APP, data);
        data.release();
        assertTrue(channel.writeInbound(packet));
        DatagramPacket datagram = channel.readInbound();
        assertSame(packet, datagram.content(), "fused: the datagram is the buffer read, no slice, no Ipv4Packet");
        datagram.release();
        assertFalse(channel.finish());
    }
}
