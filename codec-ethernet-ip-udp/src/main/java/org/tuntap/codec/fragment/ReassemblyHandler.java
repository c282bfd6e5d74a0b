package org.tuntap.codec.fragment;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import org.tuntap.codec.DropCounters;
import org.tuntap.codec.DropReason;
import org.tuntap.codec.LayerHandler;
import org.tuntap.codec.icmp.IcmpTimeExceeded;

/**
 * What the reassembly handlers of both families share: a {@link FragmentReassembler} on the
 * channel's allocator and clock, made when the handler is added; its expiry on the channel's
 * event loop ({@link ExpiryTimer}); and everything held released when the handler is removed
 * (and so when the channel closes). The subclass finds the fragments and rebuilds the packet.
 */
public abstract class ReassemblyHandler extends LayerHandler {

    private final ReassemblyLimits limits;
    private FragmentReassembler reassembler;
    private ExpiryTimer expiry;
    private boolean sendTimeExceeded;
    /** Here rather than in the reassembler, which exists only while the handler is in a pipeline. */
    private final DropCounters counters = new DropCounters();

    /** With the given limits on bytes held, time and fragments per datagram. */
    protected ReassemblyHandler(ReassemblyLimits limits) {
        this.limits = limits;
    }

    /**
     * Answer a datagram that expires with its first fragment received with an ICMP "time exceeded,
     * fragment reassembly time exceeded" (ICMPv4 type 11 code 1, ICMPv6 type 3 code 1) to its
     * source, written down the pipeline for the IP codec below (see {@link IcmpTimeExceeded}: none
     * to multicast or broadcast datagrams, none about ICMP errors). Off by default: it tells the
     * sender something useful, but is optional for a host (RFC 792 "may", RFC 8200 "should"), and
     * not every application wants to answer on behalf of its addresses.
     */
    public ReassemblyHandler setSendTimeExceeded(boolean sendTimeExceeded) {
        this.sendTimeExceeded = sendTimeExceeded;
        return this;
    }

    /** Drops by reason (see {@link FragmentReassembler}), from construction on (readable from any thread). */
    public DropCounters dropCounters() {
        return counters;
    }

    /** Bytes of fragments held now. */
    public long bytesHeld() {
        return reassembler == null ? 0 : reassembler.bytesHeld();
    }

    /** Starts the reassembler on the channel's allocator and clock. */
    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        super.handlerAdded(ctx);
        reassembler = new FragmentReassembler(ctx.alloc(), limits, ctx.executor().ticker()::nanoTime, counters);
        expiry = new ExpiryTimer(reassembler);
        reassembler.setExpiryListener((key, firstFragment) -> {
            if (sendTimeExceeded) {
                Object message = timeExceeded(ctx.alloc(), firstFragment);
                if (message != null) {
                    ctx.writeAndFlush(message); // a failure (say, no route) is not ours to report
                }
            }
        });
    }

    /**
     * The "time exceeded" message answering the expired datagram whose first fragment this is (its
     * readable bytes from the IP header; not to be kept or released), or null to send none.
     */
    protected abstract Object timeExceeded(ByteBufAllocator alloc, ByteBuf firstFragment);

    /** Releases every fragment held. */
    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        super.handlerRemoved(ctx);
        expiry.cancel();
        reassembler.close();
    }

    /**
     * Offers one fragment (see {@link FragmentReassembler#offer}, which takes over {@code packet})
     * and keeps the expiry timer on the next deadline; when the fragment completes its datagram,
     * fires the packet {@link #rebuild} makes of it.
     */
    protected final void offer(ChannelHandlerContext ctx, FragmentKey key, ByteBuf packet, int dataIndex,
                               int dataLength, int offset, boolean moreFragments) {
        Reassembled whole = reassembler.offer(key, packet, dataIndex, dataLength, offset, moreFragments);
        expiry.schedule(ctx);
        if (whole != null) {
            Object rebuilt = rebuild(ctx, whole);
            if (rebuilt != null) {
                ctx.fireChannelRead(rebuilt);
            }
        }
    }

    /**
     * The whole packet of a completed datagram (takes over {@code whole}); null, counted with
     * {@link #countDrop}, if it does not make a valid packet.
     */
    protected abstract Object rebuild(ChannelHandlerContext ctx, Reassembled whole);

    /** Counts a datagram that was whole but did not make a valid packet. */
    protected final void countDrop(DropReason reason) {
        counters.increment(reason);
    }
}
