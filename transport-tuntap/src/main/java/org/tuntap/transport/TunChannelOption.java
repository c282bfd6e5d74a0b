package org.tuntap.transport;

import io.netty.channel.ChannelOption;

import java.util.Set;

/**
 * Options of a {@link TunChannel}, beside Netty's usual ones ({@code AUTO_READ},
 * {@code ALLOCATOR}, {@code RCVBUF_ALLOCATOR}, {@code WRITE_BUFFER_WATER_MARK}, ...).
 *
 * <p>The device options ({@link #MODE} to {@link #OFFLOADS}) take effect at bind; setting them on a
 * bound channel fails.
 */
public final class TunChannelOption<T> extends ChannelOption<T> {

    /** TUN (IP packets) or TAP (Ethernet frames). Default {@link TunMode#TUN}. */
    public static final ChannelOption<TunMode> MODE = valueOf(TunChannelOption.class, "TUN_MODE");

    /**
     * Whether every packet carries the kernel's 4-byte packet-information header (flags,
     * protocol); false sets {@code IFF_NO_PI}. Default false.
     */
    public static final ChannelOption<Boolean> PACKET_INFO = valueOf(TunChannelOption.class, "TUN_PACKET_INFO");

    /**
     * The most bytes one read returns, packet-information header included; longer packets are
     * truncated as the kernel does (and flagged {@code TUN_PKT_STRIP} in the PI header).
     * Default {@link TunChannelConfig#DEFAULT_MAX_PACKET_SIZE}: a 64 KiB IP packet with PI and
     * VLAN-tagged Ethernet headers, and a virtio-net header (so a 64 KiB super-packet fits). Set
     * it to MTU + headers to save memory when offloads are off.
     */
    public static final ChannelOption<Integer> MAX_PACKET_SIZE = valueOf(TunChannelOption.class, "TUN_MAX_PACKET_SIZE");

    /**
     * The most packets read per readiness event before the loop turns to other channels
     * (the {@code maxMessagesPerRead} of Netty's receive allocator). Default 64.
     */
    public static final ChannelOption<Integer> READ_BUDGET = valueOf(TunChannelOption.class, "TUN_READ_BUDGET");

    /** Open one queue of a multi-queue device ({@code IFF_MULTI_QUEUE}). Default false. */
    public static final ChannelOption<Boolean> MULTI_QUEUE = valueOf(TunChannelOption.class, "TUN_MULTI_QUEUE");

    /** Fail the bind if the device already exists ({@code IFF_TUN_EXCL}). Default false. */
    public static final ChannelOption<Boolean> EXCLUSIVE = valueOf(TunChannelOption.class, "TUN_EXCLUSIVE");

    /**
     * Make the device persistent ({@code TUNSETPERSIST}) so it outlives the channel, or
     * {@code false} to clear persistence of an existing device. Default: left as it is (null).
     */
    public static final ChannelOption<Boolean> PERSIST = valueOf(TunChannelOption.class, "TUN_PERSIST");

    /** The uid allowed to attach to the device ({@code TUNSETOWNER}). Default: not set (-1). */
    public static final ChannelOption<Integer> OWNER = valueOf(TunChannelOption.class, "TUN_OWNER");

    /** The gid allowed to attach to the device ({@code TUNSETGROUP}). Default: not set (-1). */
    public static final ChannelOption<Integer> GROUP = valueOf(TunChannelOption.class, "TUN_GROUP");

    /**
     * Whether closing a channel that adopted an fd opened elsewhere
     * ({@link TunChannel#TunChannel(org.tuntap.transport.spi.TunIoSystem, int)}) closes that fd.
     * False leaves it open for its owner. Default true. Channels that open their own fd at bind
     * always close it.
     */
    public static final ChannelOption<Boolean> CLOSE_ADOPTED_FD = valueOf(TunChannelOption.class, "TUN_CLOSE_ADOPTED_FD");

    /**
     * Put a {@code struct virtio_net_hdr} (10 bytes; the codec module's {@code org.tuntap.codec.vnet.VirtioNetHeader} reads and writes it) in front of every
     * packet, both ways ({@code IFF_VNET_HDR}): inbound each {@code ByteBuf} starts with the
     * header (after the PI header, if any), and outbound each written {@code ByteBuf} must start
     * with one (the codec module's {@code VirtioNetHeader.writeEmpty} for an ordinary packet). Needed for
     * {@link #OFFLOADS}. Default false; false is also the off switch for offloads.
     */
    public static final ChannelOption<Boolean> VNET_HDR = valueOf(TunChannelOption.class, "TUN_VNET_HDR");

    /**
     * The offloads to ask the kernel for ({@code TUNSETOFFLOAD}) when {@link #VNET_HDR} is on:
     * with {@link TunOffload#TSO4} a read may return a TCP super-packet of up to 64 KiB. Those the
     * kernel refuses are dropped at bind; {@link TunChannelConfig#getAppliedOffloads()} says which
     * were applied. Default: none.
     */
    public static final ChannelOption<Set<TunOffload>> OFFLOADS = valueOf(TunChannelOption.class, "TUN_OFFLOADS");

    @SuppressWarnings("unused")
    private TunChannelOption() {
        super(null);
    }
}
