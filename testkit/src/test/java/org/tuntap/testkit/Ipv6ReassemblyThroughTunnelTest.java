package org.tuntap.testkit;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;
import org.tuntap.codec.DropReason;
import org.tuntap.codec.fragment.Ipv6ReassemblyHandler;
import org.tuntap.codec.ipv6.Ipv6Codec;
import org.tuntap.codec.ipv6.Ipv6ExtensionHeader;
import org.tuntap.codec.ipv6.Ipv6Header;
import org.tuntap.codec.ipv6.Ipv6Packet;
import org.tuntap.codec.ipv6.Ipv6Repr;
import org.tuntap.transport.TunMode;

import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * IPv6 reassembly on a real {@code TunChannel} over the in-memory tunnel: fragments in, one
 * packet out; an incomplete datagram expires on the loop's clock ({@code advanceTimeBy}, no
 * sleep) and its buffers are released.
 */
class Ipv6ReassemblyThroughTunnelTest {
    private static final long PREFIX = 0x20010db8_00000000L;

    /** A fragment of a datagram from 2001:db8::1 to ::2 carrying protocol 253, id {@code id}. */
    private static byte[] fragment(int id, byte[] data, int offset, int end, boolean more) {
        ByteBuf b = Unpooled.buffer();
        new Ipv6Repr().source(PREFIX, 1).destination(PREFIX, 2).nextHeader(Ipv6Header.FRAGMENT).emit(b, 0, 8 + end - offset);
        b.writerIndex(48);
        Ipv6ExtensionHeader.setFragment(b, 40, 253, offset / 8, more, id);
        b.writeBytes(data, offset, end - offset);
        return ByteBufUtil.getBytes(b);
    }

    @Test
    void fragmentsBecomeOnePacketAndStragglersExpire() {
        Ipv6ReassemblyHandler reassembly = new Ipv6ReassemblyHandler();
        TunnelHarness harness = TunnelHarness.builder().mode(TunMode.TUN)
                .handlers(new Ipv6Codec().setPassFragments(true), reassembly).build();
        byte[] data = new byte[2000];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) (i * 7);
        }
        // A datagram that never completes: its first half only.
        harness.writeToTunnel(fragment(1, data, 0, 1000, true));
        harness.advanceTimeBy(29, TimeUnit.SECONDS);
        assertEquals(0, reassembly.dropCounters().get(DropReason.REASSEMBLY_TIMEOUT));
        // A whole one, out of order, meanwhile.
        harness.writeToTunnel(fragment(2, data, 1000, 2000, false));
        harness.writeToTunnel(fragment(2, data, 0, 1000, true));
        Ipv6Packet whole = harness.readInbound();
        assertEquals(253, whole.upperLayerProtocol());
        assertArrayEquals(data, ByteBufUtil.getBytes(whole.upperLayerPayload()));
        whole.release();

        harness.advanceTimeBy(1, TimeUnit.SECONDS); // 30 s after the first datagram's first fragment
        assertEquals(1, reassembly.dropCounters().get(DropReason.REASSEMBLY_TIMEOUT));
        assertEquals(0, reassembly.bytesHeld(), "its fragment released");
        // Its second half, late: the start of a new datagram, which expires in turn.
        harness.writeToTunnel(fragment(1, data, 1000, 2000, false));
        assertNull(harness.readInbound());
        harness.advanceTimeBy(30, TimeUnit.SECONDS);
        assertEquals(2, reassembly.dropCounters().get(DropReason.REASSEMBLY_TIMEOUT));

        harness.writeToTunnel(fragment(3, data, 0, 1000, true)); // held when the channel closes
        assertFalse(harness.finish(), "nothing left unread; finish fails on a leaked buffer");
    }
}
