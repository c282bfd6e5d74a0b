package org.tuntap.transport;

import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelException;
import io.netty.channel.ChannelOption;
import io.netty.channel.DefaultChannelConfig;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.MaxMessagesRecvByteBufAllocator;
import io.netty.channel.MessageSizeEstimator;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.WriteBufferWaterMark;
import org.tuntap.transport.spi.TunIoctl;

import java.util.Collections;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

/**
 * The configuration of a {@link TunChannel}: the device settings used at bind (see
 * {@link TunChannelOption}) and Netty's usual channel settings.
 *
 * <p>Every read gets a buffer of {@link #getMaxPacketSize()} bytes from the channel's receive
 * allocator (by default a {@link FixedRecvByteBufAllocator} of that size), because a TUN read
 * returns a whole packet or truncates it: there is no second read for the rest.
 */
public final class TunChannelConfig extends DefaultChannelConfig {

    /** IPv4's largest packet, plus a PI header, a virtio-net header and a VLAN-tagged Ethernet header. */
    public static final int DEFAULT_MAX_PACKET_SIZE = 65_535 + TunIoctl.PI_HEADER_LENGTH + TunIoctl.VNET_HDR_LENGTH + 18;
    /** The most packets read per readiness event, unless {@link #setReadBudget(int)} says otherwise. */
    public static final int DEFAULT_READ_BUDGET = 64;

    private volatile TunMode mode = TunMode.TUN;
    private volatile boolean packetInfo;
    private volatile int maxPacketSize = DEFAULT_MAX_PACKET_SIZE;
    private volatile boolean multiQueue;
    private volatile boolean exclusive;
    private volatile Boolean persist;
    private volatile int owner = -1;
    private volatile int group = -1;
    private volatile boolean closeAdoptedFd = true;
    /** An adopted fd whose TUNGETIFF answer proved packet information on. */
    private volatile boolean packetInfoProven;
    private volatile boolean vnetHdr;
    private volatile Set<TunOffload> offloads = Collections.emptySet();
    private volatile Set<TunOffload> appliedOffloads = Collections.emptySet();

    TunChannelConfig(TunChannel channel) {
        super(channel, new FixedRecvByteBufAllocator(DEFAULT_MAX_PACKET_SIZE).maxMessagesPerRead(DEFAULT_READ_BUDGET));
    }

    @Override
    public Map<ChannelOption<?>, Object> getOptions() {
        return getOptions(super.getOptions(),
                TunChannelOption.MODE, TunChannelOption.PACKET_INFO, TunChannelOption.MAX_PACKET_SIZE,
                TunChannelOption.READ_BUDGET, TunChannelOption.MULTI_QUEUE, TunChannelOption.EXCLUSIVE,
                TunChannelOption.PERSIST, TunChannelOption.OWNER, TunChannelOption.GROUP,
                TunChannelOption.CLOSE_ADOPTED_FD,
                TunChannelOption.VNET_HDR, TunChannelOption.OFFLOADS);
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T> T getOption(ChannelOption<T> option) {
        if (option == TunChannelOption.MODE) return (T) getMode();
        if (option == TunChannelOption.PACKET_INFO) return (T) Boolean.valueOf(isPacketInfo());
        if (option == TunChannelOption.MAX_PACKET_SIZE) return (T) Integer.valueOf(getMaxPacketSize());
        if (option == TunChannelOption.READ_BUDGET) return (T) Integer.valueOf(getReadBudget());
        if (option == TunChannelOption.MULTI_QUEUE) return (T) Boolean.valueOf(isMultiQueue());
        if (option == TunChannelOption.EXCLUSIVE) return (T) Boolean.valueOf(isExclusive());
        if (option == TunChannelOption.PERSIST) return (T) getPersist();
        if (option == TunChannelOption.OWNER) return (T) Integer.valueOf(getOwner());
        if (option == TunChannelOption.GROUP) return (T) Integer.valueOf(getGroup());
        if (option == TunChannelOption.CLOSE_ADOPTED_FD) return (T) Boolean.valueOf(isCloseAdoptedFd());
        if (option == TunChannelOption.VNET_HDR) return (T) Boolean.valueOf(isVnetHdr());
        if (option == TunChannelOption.OFFLOADS) return (T) getOffloads();
        return super.getOption(option);
    }

    @Override
    public <T> boolean setOption(ChannelOption<T> option, T value) {
        validate(option, value);
        if (option == TunChannelOption.MODE) {
            setMode((TunMode) value);
        } else if (option == TunChannelOption.PACKET_INFO) {
            setPacketInfo((Boolean) value);
        } else if (option == TunChannelOption.MAX_PACKET_SIZE) {
            setMaxPacketSize((Integer) value);
        } else if (option == TunChannelOption.READ_BUDGET) {
            setReadBudget((Integer) value);
        } else if (option == TunChannelOption.MULTI_QUEUE) {
            setMultiQueue((Boolean) value);
        } else if (option == TunChannelOption.EXCLUSIVE) {
            setExclusive((Boolean) value);
        } else if (option == TunChannelOption.PERSIST) {
            setPersist((Boolean) value);
        } else if (option == TunChannelOption.OWNER) {
            setOwner((Integer) value);
        } else if (option == TunChannelOption.GROUP) {
            setGroup((Integer) value);
        } else if (option == TunChannelOption.CLOSE_ADOPTED_FD) {
            setCloseAdoptedFd((Boolean) value);
        } else if (option == TunChannelOption.VNET_HDR) {
            setVnetHdr((Boolean) value);
        } else if (option == TunChannelOption.OFFLOADS) {
            @SuppressWarnings("unchecked")
            Set<TunOffload> requested = (Set<TunOffload>) value;
            setOffloads(requested);
        } else {
            return super.setOption(option, value);
        }
        return true;
    }

    /** TUN (IP packets) or TAP (Ethernet frames); {@link TunChannelOption#MODE}. */
    public TunMode getMode() {
        return mode;
    }

    /**
     * Sets TUN or TAP; before bind only.
     *
     * @param mode the kind of device
     * @return this config
     * @throws IllegalStateException if the channel is already bound
     */
    public TunChannelConfig setMode(TunMode mode) {
        checkUnbound(TunChannelOption.MODE);
        if (mode == null) {
            throw new NullPointerException("mode");
        }
        this.mode = mode;
        return this;
    }

    /**
     * Whether every packet carries the 4-byte packet-information header (no {@code IFF_NO_PI});
     * {@link TunChannelOption#PACKET_INFO}.
     */
    public boolean isPacketInfo() {
        return packetInfo;
    }

    /**
     * Turns the packet-information header on or off; before bind only. On a channel that adopted
     * its fd, until it is registered instead, since the kernel's {@code TUNGETIFF} answer cannot
     * always tell (its {@code IFF_NO_PI} bit doubles as {@code IFF_NOFILTER}); it cannot contradict an answer that did tell.
     *
     * @param packetInfo true for the 4-byte header before every packet
     * @return this config
     * @throws IllegalStateException if the channel is already bound (adopted: registered), or
     *     the kernel proved packet information on and {@code packetInfo} is false
     */
    public TunChannelConfig setPacketInfo(boolean packetInfo) {
        if (((TunChannel) channel).isAdopted() && !channel.isRegistered()) {
            if (packetInfoProven && !packetInfo) {
                throw new IllegalStateException("the kernel reports packet information on for the adopted fd of "
                        + channel.localAddress() + " (IFF_NO_PI is not set)");
            }
        } else {
            checkUnbound(TunChannelOption.PACKET_INFO);
        }
        this.packetInfo = packetInfo;
        return this;
    }

    /** The largest packet a read returns whole, PI header included; {@link TunChannelOption#MAX_PACKET_SIZE}. */
    public int getMaxPacketSize() {
        return maxPacketSize;
    }

    /**
     * Sets the largest read (PI header included) and sizes the default receive allocator to match.
     * A receive allocator set later with {@link #setRecvByteBufAllocator} is used as given.
     */
    public TunChannelConfig setMaxPacketSize(int maxPacketSize) {
        if (maxPacketSize < 1) {
            throw new IllegalArgumentException("maxPacketSize must be positive: " + maxPacketSize);
        }
        this.maxPacketSize = maxPacketSize;
        RecvByteBufAllocator current = getRecvByteBufAllocator();
        if (current instanceof FixedRecvByteBufAllocator) {
            int budget = ((MaxMessagesRecvByteBufAllocator) current).maxMessagesPerRead();
            super.setRecvByteBufAllocator(new FixedRecvByteBufAllocator(maxPacketSize).maxMessagesPerRead(budget));
        }
        return this;
    }

    /** The most packets read per readiness event. */
    public int getReadBudget() {
        return getMaxMessagesPerRead();
    }

    /**
     * Sets the most packets read per readiness event (the receive allocator's messages per read).
     *
     * @param packets at least 1
     * @return this config
     * @throws IllegalArgumentException if {@code packets} is less than 1
     * @throws IllegalStateException if the receive allocator has no per-read limit
     */
    public TunChannelConfig setReadBudget(int packets) {
        if (packets < 1) {
            throw new IllegalArgumentException("read budget must be positive: " + packets);
        }
        RecvByteBufAllocator allocator = getRecvByteBufAllocator();
        if (!(allocator instanceof MaxMessagesRecvByteBufAllocator)) {
            throw new IllegalStateException("the receive allocator " + allocator.getClass().getName()
                    + " has no per-read message limit");
        }
        ((MaxMessagesRecvByteBufAllocator) allocator).maxMessagesPerRead(packets);
        return this;
    }

    /** Whether the device is multi-queue ({@code IFF_MULTI_QUEUE}); {@link TunChannelOption#MULTI_QUEUE}. */
    public boolean isMultiQueue() {
        return multiQueue;
    }

    /**
     * Asks for a multi-queue device, one queue per channel bound to the name; before bind only.
     *
     * @param multiQueue true for {@code IFF_MULTI_QUEUE}
     * @return this config
     * @throws IllegalStateException if the channel is already bound
     */
    public TunChannelConfig setMultiQueue(boolean multiQueue) {
        checkUnbound(TunChannelOption.MULTI_QUEUE);
        this.multiQueue = multiQueue;
        return this;
    }

    /** Whether bind fails on a device that already exists ({@code IFF_TUN_EXCL}); {@link TunChannelOption#EXCLUSIVE}. */
    public boolean isExclusive() {
        return exclusive;
    }

    /**
     * Makes bind fail with EBUSY if the device already exists; before bind only.
     *
     * @param exclusive true for {@code IFF_TUN_EXCL}
     * @return this config
     * @throws IllegalStateException if the channel is already bound
     */
    public TunChannelConfig setExclusive(boolean exclusive) {
        checkUnbound(TunChannelOption.EXCLUSIVE);
        this.exclusive = exclusive;
        return this;
    }

    /** Null when persistence is left as the device has it. */
    public Boolean getPersist() {
        return persist;
    }

    /**
     * Makes the device persistent (it outlives the channel) or not, at bind; before bind only.
     *
     * @param persist true or false for {@code TUNSETPERSIST}, null to leave the device as it is
     * @return this config
     * @throws IllegalStateException if the channel is already bound
     */
    public TunChannelConfig setPersist(Boolean persist) {
        checkUnbound(TunChannelOption.PERSIST);
        this.persist = persist;
        return this;
    }

    /** -1 when not set. */
    public int getOwner() {
        return owner;
    }

    /**
     * Sets the user allowed to attach to the device ({@code TUNSETOWNER}) at bind; before bind only.
     *
     * @param uid the user id, or -1 to leave it
     * @return this config
     * @throws IllegalStateException if the channel is already bound
     */
    public TunChannelConfig setOwner(int uid) {
        checkUnbound(TunChannelOption.OWNER);
        this.owner = uid;
        return this;
    }

    /** -1 when not set. */
    public int getGroup() {
        return group;
    }

    /**
     * Sets the group allowed to attach to the device ({@code TUNSETGROUP}) at bind; before bind only.
     *
     * @param gid the group id, or -1 to leave it
     * @return this config
     * @throws IllegalStateException if the channel is already bound
     */
    public TunChannelConfig setGroup(int gid) {
        checkUnbound(TunChannelOption.GROUP);
        this.group = gid;
        return this;
    }

    /** Whether closing a channel that adopted its fd closes the fd (default true). */
    public boolean isCloseAdoptedFd() {
        return closeAdoptedFd;
    }

    /** False leaves an adopted fd open when the channel closes, for its owner to reuse or close. */
    public TunChannelConfig setCloseAdoptedFd(boolean closeAdoptedFd) {
        this.closeAdoptedFd = closeAdoptedFd;
        return this;
    }

    /** Whether every packet carries a {@code virtio_net_hdr} ({@code IFF_VNET_HDR}); {@link TunChannelOption#VNET_HDR}. */
    public boolean isVnetHdr() {
        return vnetHdr;
    }

    /**
     * Puts a virtio-net header in front of every packet, both ways; before bind only. Off (the
     * default) also turns every offload off.
     *
     * @param vnetHdr true for {@code IFF_VNET_HDR}
     * @return this config
     * @throws IllegalStateException if the channel is already bound
     */
    public TunChannelConfig setVnetHdr(boolean vnetHdr) {
        checkUnbound(TunChannelOption.VNET_HDR);
        this.vnetHdr = vnetHdr;
        return this;
    }

    /** The offloads asked for ({@link TunChannelOption#OFFLOADS}); an unmodifiable set. */
    public Set<TunOffload> getOffloads() {
        return offloads;
    }

    /**
     * Sets the offloads to ask the kernel for at bind, when {@link #isVnetHdr()}; before bind only.
     *
     * @param offloads the offloads; empty for none
     * @return this config
     * @throws IllegalStateException if the channel is already bound
     */
    public TunChannelConfig setOffloads(Set<TunOffload> offloads) {
        checkUnbound(TunChannelOption.OFFLOADS);
        if (offloads == null) {
            throw new NullPointerException("offloads");
        }
        this.offloads = offloads.isEmpty() ? Collections.emptySet()
                : Collections.unmodifiableSet(EnumSet.copyOf(offloads));
        return this;
    }

    /**
     * Takes the settings of an adopted fd's device from its {@code TUNGETIFF} flags: the mode and
     * {@code IFF_MULTI_QUEUE} for certain. Packet information only half: the kernel ORs
     * {@code IFF_NOFILTER} into the answer whenever no socket filter is attached (almost always),
     * and that is the same bit, 0x1000, as {@code IFF_NO_PI}. A clear bit proves packet
     * information on; a set bit is taken as {@code IFF_NO_PI}, the usual setting, which
     * {@link TunChannelOption#PACKET_INFO} may correct before registration.
     */
    void learnDevice(int flags) {
        if ((flags & TunIoctl.IFF_TAP) != 0) {
            mode = TunMode.TAP;
        } else if ((flags & TunIoctl.IFF_TUN) != 0) {
            mode = TunMode.TUN;
        } else {
            throw new ChannelException("TUNGETIFF flags 0x" + Integer.toHexString(flags)
                    + " name neither TUN nor TAP");
        }
        packetInfo = (flags & TunIoctl.IFF_NO_PI) == 0;
        packetInfoProven = packetInfo;
        multiQueue = (flags & TunIoctl.IFF_MULTI_QUEUE) != 0;
        vnetHdr = (flags & TunIoctl.IFF_VNET_HDR) != 0; // reliable: every packet then carries the header
    }

    /**
     * The offloads the kernel accepted at bind: {@link #getOffloads()} less those it refused (an
     * older kernel refuses USO; the kernel refuses TSO without CSUM). Empty before bind and
     * without {@link #isVnetHdr()}.
     */
    public Set<TunOffload> getAppliedOffloads() {
        return appliedOffloads;
    }

    void setAppliedOffloads(Set<TunOffload> applied) {
        this.appliedOffloads = applied;
    }

    /** The {@code TUNSETIFF} flags these settings ask for. */
    int ifreqFlags() {
        int flags = mode.flag();
        if (!packetInfo) {
            flags |= TunIoctl.IFF_NO_PI;
        }
        if (multiQueue) {
            flags |= TunIoctl.IFF_MULTI_QUEUE;
        }
        if (exclusive) {
            flags |= TunIoctl.IFF_TUN_EXCL;
        }
        if (vnetHdr) {
            flags |= TunIoctl.IFF_VNET_HDR;
        }
        return flags;
    }

    private void checkUnbound(ChannelOption<?> option) {
        if (channel.isActive()) {
            throw new IllegalStateException(option + " takes effect at bind; " + channel + " is already bound");
        }
    }

    // Covariant overrides so chained configuration keeps this type.

    @Override
    public TunChannelConfig setConnectTimeoutMillis(int connectTimeoutMillis) {
        super.setConnectTimeoutMillis(connectTimeoutMillis);
        return this;
    }

    @Override
    @Deprecated
    public TunChannelConfig setMaxMessagesPerRead(int maxMessagesPerRead) {
        super.setMaxMessagesPerRead(maxMessagesPerRead);
        return this;
    }

    @Override
    public TunChannelConfig setWriteSpinCount(int writeSpinCount) {
        super.setWriteSpinCount(writeSpinCount);
        return this;
    }

    @Override
    public TunChannelConfig setAllocator(ByteBufAllocator allocator) {
        super.setAllocator(allocator);
        return this;
    }

    @Override
    public TunChannelConfig setRecvByteBufAllocator(RecvByteBufAllocator allocator) {
        super.setRecvByteBufAllocator(allocator);
        return this;
    }

    @Override
    public TunChannelConfig setAutoRead(boolean autoRead) {
        super.setAutoRead(autoRead);
        return this;
    }

    @Override
    public TunChannelConfig setAutoClose(boolean autoClose) {
        super.setAutoClose(autoClose);
        return this;
    }

    @Override
    public TunChannelConfig setWriteBufferHighWaterMark(int writeBufferHighWaterMark) {
        super.setWriteBufferHighWaterMark(writeBufferHighWaterMark);
        return this;
    }

    @Override
    public TunChannelConfig setWriteBufferLowWaterMark(int writeBufferLowWaterMark) {
        super.setWriteBufferLowWaterMark(writeBufferLowWaterMark);
        return this;
    }

    @Override
    public TunChannelConfig setWriteBufferWaterMark(WriteBufferWaterMark writeBufferWaterMark) {
        super.setWriteBufferWaterMark(writeBufferWaterMark);
        return this;
    }

    @Override
    public TunChannelConfig setMessageSizeEstimator(MessageSizeEstimator estimator) {
        super.setMessageSizeEstimator(estimator);
        return this;
    }
}
