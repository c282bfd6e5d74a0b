package org.tuntap.testkit.channel;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import org.junit.jupiter.api.Test;
import org.tuntap.testkit.MemoryIoSystem;
import org.tuntap.testkit.Tunnel;
import org.tuntap.testkit.TunnelHarness;
import org.tuntap.transport.TunChannelOption;
import org.tuntap.transport.TunOffload;
import org.tuntap.codec.vnet.VirtioNetHeader;
import org.tuntap.transport.spi.Errno;
import org.tuntap.transport.spi.ErrnoException;
import org.tuntap.transport.spi.TunIoctl;

import java.util.Arrays;
import java.util.EnumSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** TunChannel with VNET_HDR and OFFLOADS on the in-memory tunnel: what bind asks for, and the header both ways. */
class VnetHeaderChannelTest {
    private static final Set<TunOffload> ALL = EnumSet.allOf(TunOffload.class);
    private static final int TCP_SUPER_PACKET = 20 + 20 + 10 * 1448;

    private static TunnelHarness harness(MemoryIoSystem system, Set<TunOffload> offloads, boolean packetInfo) {
        return TunnelHarness.builder().ioSystem(system).packetInfo(packetInfo)
                .option(TunChannelOption.VNET_HDR, true)
                .option(TunChannelOption.OFFLOADS, offloads)
                .build();
    }

    @Test
    void offByDefaultNoHeaderNoOffloads() {
        try (TunnelHarness harness = TunnelHarness.builder().build()) {
            assertFalse(harness.channel().config().isVnetHdr());
            assertTrue(harness.channel().config().getAppliedOffloads().isEmpty());
            assertFalse(harness.tunnel().hasVnetHeader());
            assertEquals(0, harness.tunnel().offloadFlags());
            byte[] packet = ipv4(60);
            harness.writeToTunnel(packet);
            ByteBuf read = harness.readInbound();
            try {
                assertArrayEquals(packet, ByteBufUtil.getBytes(read), "no header in front");
            } finally {
                read.release();
            }
        }
    }

    @Test
    void bindSetsTheFlagTheTenByteHeaderAndEveryOffloadTheKernelKnows() {
        try (TunnelHarness harness = harness(new MemoryIoSystem(), ALL, false)) {
            Tunnel tunnel = harness.tunnel();
            assertTrue(tunnel.hasVnetHeader(), "IFF_VNET_HDR in TUNSETIFF");
            assertEquals(VirtioNetHeader.LENGTH, tunnel.vnetHeaderSize());
            assertEquals(0x6F, tunnel.offloadFlags(), "CSUM|TSO4|TSO6|TSO_ECN|USO4|USO6");
            assertEquals(ALL, harness.channel().config().getAppliedOffloads());
            assertEquals(ALL, harness.channel().config().getOption(TunChannelOption.OFFLOADS));
        }
    }

    @Test
    void aKernelWithoutUsoDropsOnlyUso() {
        MemoryIoSystem system = new MemoryIoSystem();
        system.setSupportedOffloadFlags(MemoryIoSystem.ALL_OFFLOAD_FLAGS & ~(TunIoctl.TUN_F_USO4 | TunIoctl.TUN_F_USO6));
        try (TunnelHarness harness = harness(system, ALL, false)) {
            assertEquals(EnumSet.of(TunOffload.CSUM, TunOffload.TSO4, TunOffload.TSO6, TunOffload.TSO_ECN),
                    harness.channel().config().getAppliedOffloads());
            assertEquals(0x0F, harness.tunnel().offloadFlags());
            assertChannelWorks(harness);
        }
    }

    @Test
    void combinationsTheKernelRefusesFallBackToWhatItTakes() {
        // USO4 without USO6: the kernel refuses; TSO4 with CSUM survives.
        try (TunnelHarness harness = harness(new MemoryIoSystem(),
                EnumSet.of(TunOffload.CSUM, TunOffload.TSO4, TunOffload.USO4), false)) {
            assertEquals(EnumSet.of(TunOffload.CSUM, TunOffload.TSO4), harness.channel().config().getAppliedOffloads());
            assertEquals(TunIoctl.TUN_F_CSUM | TunIoctl.TUN_F_TSO4, harness.tunnel().offloadFlags());
            assertChannelWorks(harness);
        }
        // TSO4 without CSUM: nothing is left, the header stays.
        try (TunnelHarness harness = harness(new MemoryIoSystem(), EnumSet.of(TunOffload.TSO4), false)) {
            assertTrue(harness.channel().config().getAppliedOffloads().isEmpty());
            assertTrue(harness.tunnel().hasVnetHeader());
            assertChannelWorks(harness);
        }
    }

    @Test
    void aSuperPacketArrivesWholeWithItsHeaderInFront() {
        for (boolean packetInfo : new boolean[] {false, true}) {
            try (TunnelHarness harness = harness(new MemoryIoSystem(), EnumSet.of(TunOffload.CSUM, TunOffload.TSO4),
                    packetInfo)) {
                byte[] packet = ipv4(TCP_SUPER_PACKET);
                harness.tunnel().addToReadBuffer(tcpv4Header(1448), packet);
                harness.runPendingTasks();
                ByteBuf read = harness.readInbound();
                try {
                    int at = read.readerIndex() + (packetInfo ? TunIoctl.PI_HEADER_LENGTH : 0);
                    if (packetInfo) {
                        assertEquals(0x0800, read.getUnsignedShort(read.readerIndex() + 2), "PI first, then the header");
                    }
                    assertEquals(VirtioNetHeader.GSO_TCPV4, VirtioNetHeader.gsoType(read, at));
                    assertTrue(VirtioNetHeader.isGso(read, at));
                    assertTrue(VirtioNetHeader.needsChecksum(read, at));
                    assertEquals(1448, VirtioNetHeader.gsoSize(read, at));
                    assertEquals(40, VirtioNetHeader.hdrLen(read, at));
                    assertEquals(20, VirtioNetHeader.csumStart(read, at));
                    assertEquals(16, VirtioNetHeader.csumOffset(read, at));
                    assertArrayEquals(packet, ByteBufUtil.getBytes(read, at + VirtioNetHeader.LENGTH,
                            read.writerIndex() - at - VirtioNetHeader.LENGTH), "the whole super-packet, one read");
                } finally {
                    read.release();
                }
            }
        }
    }

    @Test
    void aForwarderPassesASuperPacketOnWhole() {
        ChannelInboundHandlerAdapter reflect = new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                ctx.writeAndFlush(msg);
            }
        };
        try (TunnelHarness harness = TunnelHarness.builder().handlers(reflect)
                .option(TunChannelOption.VNET_HDR, true)
                .option(TunChannelOption.OFFLOADS, EnumSet.of(TunOffload.CSUM, TunOffload.TSO4)).build()) {
            byte[] header = tcpv4Header(1448);
            byte[] packet = ipv4(TCP_SUPER_PACKET);
            harness.tunnel().addToReadBuffer(header, packet);
            harness.runPendingTasks();
            assertArrayEquals(concat(header, packet), harness.readFromTunnel(), "one write, header and all");
        }
    }

    @Test
    void plainPacketsGetTheEmptyHeaderBothWays() {
        try (TunnelHarness harness = harness(new MemoryIoSystem(), Set.of(), false)) {
            assertEquals(0, harness.tunnel().offloadFlags(), "TUNSETOFFLOAD 0 clears a persistent device's offloads");
            byte[] packet = ipv4(60);
            harness.writeToTunnel(packet);
            ByteBuf read = harness.readInbound();
            try {
                assertArrayEquals(concat(new byte[VirtioNetHeader.LENGTH], packet), ByteBufUtil.getBytes(read));
                assertFalse(VirtioNetHeader.isGso(read, read.readerIndex()));
            } finally {
                read.release();
            }
            ByteBuf out = VirtioNetHeader.writeEmpty(PooledByteBufAllocator.DEFAULT.directBuffer()).writeBytes(packet);
            harness.writeOutbound(out);
            assertArrayEquals(concat(new byte[VirtioNetHeader.LENGTH], packet), harness.readFromTunnel());
        }
    }

    @Test
    void aWriteTooShortForTheHeaderFailsItsPromiseWithEinval() {
        try (TunnelHarness harness = harness(new MemoryIoSystem(), Set.of(), false)) {
            ChannelFuture write = harness.channel().writeAndFlush(
                    PooledByteBufAllocator.DEFAULT.directBuffer().writeBytes(new byte[] {0x45, 0, 0}));
            harness.runPendingTasks();
            ErrnoException failure = assertInstanceOf(ErrnoException.class, write.cause());
            assertEquals(Errno.EINVAL, failure.errno());
            assertTrue(harness.channel().isActive(), "a bad packet does not close the channel");
            assertChannelWorks(harness);
        }
    }

    @Test
    void theTunnelHandsOverOnlySuperPacketsTheOffloadsAllow() {
        try (TunnelHarness harness = harness(new MemoryIoSystem(), EnumSet.of(TunOffload.CSUM), false)) {
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> harness.tunnel().addToReadBuffer(tcpv4Header(1448), ipv4(TCP_SUPER_PACKET)));
            assertTrue(e.getMessage().contains("TUNSETOFFLOAD"), e.getMessage());
        }
    }

    @Test
    void offloadOptionsAreFixedAtBind() {
        try (TunnelHarness harness = harness(new MemoryIoSystem(), ALL, false)) {
            assertThrows(IllegalStateException.class, () -> harness.channel().config().setVnetHdr(false));
            assertThrows(IllegalStateException.class, () -> harness.channel().config().setOffloads(Set.of()));
        }
    }

    /** An ordinary packet (with the empty header) goes both ways. */
    private static void assertChannelWorks(TunnelHarness harness) {
        byte[] packet = ipv4(40);
        harness.writeToTunnel(packet);
        ByteBuf read = harness.readInbound();
        try {
            assertArrayEquals(concat(new byte[VirtioNetHeader.LENGTH], packet), ByteBufUtil.getBytes(read));
        } finally {
            read.release();
        }
        harness.writeOutbound(VirtioNetHeader.writeEmpty(PooledByteBufAllocator.DEFAULT.directBuffer()).writeBytes(packet));
        assertArrayEquals(concat(new byte[VirtioNetHeader.LENGTH], packet), harness.readFromTunnel());
    }

    /** The header the kernel puts on an IPv4 TCP super-packet: partial checksum at TCP's field. */
    private static byte[] tcpv4Header(int gsoSize) {
        ByteBuf header = PooledByteBufAllocator.DEFAULT.heapBuffer(VirtioNetHeader.LENGTH);
        try {
            VirtioNetHeader.write(header, VirtioNetHeader.FLAG_NEEDS_CSUM, VirtioNetHeader.GSO_TCPV4, 40, gsoSize, 20, 16);
            return ByteBufUtil.getBytes(header);
        } finally {
            header.release();
        }
    }

    /** {@code length} bytes starting with 0x45 (IPv4): the tunnel looks only at the version nibble. */
    private static byte[] ipv4(int length) {
        byte[] packet = new byte[length];
        for (int i = 1; i < length; i++) {
            packet[i] = (byte) i;
        }
        packet[0] = 0x45;
        return packet;
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] joined = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, joined, a.length, b.length);
        return joined;
    }
}
