package org.tuntap.examples;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.tuntap.testkit.MemoryIoHandler;
import org.tuntap.testkit.MemoryIoSystem;
import org.tuntap.testkit.Tunnel;
import org.tuntap.transport.TunOffload;
import org.tuntap.codec.vnet.VirtioNetHeader;

import java.util.Arrays;
import java.util.EnumSet;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The forwarder's wiring on the in-memory layer: each device gets what the other read, byte for byte. */
class TunForwardTest {
    private final MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, MemoryIoHandler.newFactory());

    @AfterEach
    void shutdown() throws InterruptedException {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }

    @Test
    void plainPacketsCrossBothWays() throws Exception {
        MemoryIoSystem system = new MemoryIoSystem();
        TunForward.Forwarding forwarding = TunForward.start(system, group, "fwa", "fwb", false);
        Tunnel a = system.getTunnel(forwarding.a);
        Tunnel b = system.getTunnel(forwarding.b);
        byte[] toB = ipv4(100);
        byte[] toA = ipv4(1400);
        a.addToReadBuffer(toB);
        b.addToReadBuffer(toA);
        assertTrue(b.awaitWritten(1, 10, TimeUnit.SECONDS));
        assertTrue(a.awaitWritten(1, 10, TimeUnit.SECONDS));
        assertArrayEquals(toB, b.takeWritten());
        assertArrayEquals(toA, a.takeWritten());
        forwarding.close();
        assertTrue(forwarding.closeFuture().isDone());
        assertEquals("forwarded fwa -> fwb: 1 packets, 100 bytes; fwb -> fwa: 1 packets, 1400 bytes; write errors 0",
                forwarding.totals());
    }

    @Test
    void withOffloadsASuperPacketCrossesWholeWithItsHeader() throws Exception {
        MemoryIoSystem system = new MemoryIoSystem();
        TunForward.Forwarding forwarding = TunForward.start(system, group, "fwa", "fwb", true);
        assertEquals(EnumSet.allOf(TunOffload.class), forwarding.a.config().getAppliedOffloads());
        Tunnel a = system.getTunnel(forwarding.a);
        Tunnel b = system.getTunnel(forwarding.b);
        ByteBuf header = Unpooled.buffer();
        byte[] headerBytes;
        try {
            VirtioNetHeader.write(header, VirtioNetHeader.FLAG_NEEDS_CSUM, VirtioNetHeader.GSO_TCPV4, 40, 1448, 20, 16);
            headerBytes = Arrays.copyOf(header.array(), VirtioNetHeader.LENGTH);
        } finally {
            header.release();
        }
        byte[] superPacket = ipv4(40 + 40 * 1448);
        a.addToReadBuffer(headerBytes, superPacket);
        assertTrue(b.awaitWritten(1, 10, TimeUnit.SECONDS));
        byte[] written = b.takeWritten();
        assertArrayEquals(headerBytes, Arrays.copyOf(written, VirtioNetHeader.LENGTH));
        assertArrayEquals(superPacket, Arrays.copyOfRange(written, VirtioNetHeader.LENGTH, written.length));
        forwarding.close();
    }

    @Test
    void aDeviceGoingAwayStopsForwarding() throws Exception {
        MemoryIoSystem system = new MemoryIoSystem();
        TunForward.Forwarding forwarding = TunForward.start(system, group, "fwa", "fwb", false);
        forwarding.b.close().sync();
        forwarding.closeFuture().await(10, TimeUnit.SECONDS);
        assertFalse(forwarding.a.isOpen(), "the other channel closed too");
    }

    private static byte[] ipv4(int length) {
        byte[] packet = new byte[length];
        for (int i = 1; i < length; i++) {
            packet[i] = (byte) (i * 7);
        }
        packet[0] = 0x45;
        return packet;
    }
}
