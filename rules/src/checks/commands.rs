//! Record-time rules that need the command pool's queue family or the synchronization2
//! feature: 10387/10388 and the synchronization1 CONCURRENT rules 09049 to 09054.
